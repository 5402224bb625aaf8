import os
import sys

# The package from this source tree (an installed one is tested by pip-installing it first).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
