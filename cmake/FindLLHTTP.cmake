# Finds the llhttp C sources that Debian's node-llhttp package ships, to be compiled into libwsc.
#   LLHTTP_SOURCES      api.c http.c llhttp.c
#   LLHTTP_INCLUDE_DIR  the folder holding llhttp.h
find_path(LLHTTP_INCLUDE_DIR llhttp.h
  HINTS ${LLHTTP_ROOT}/include
  PATHS /usr/share/include/llhttp /usr/include/llhttp
  NO_DEFAULT_PATH)
find_path(LLHTTP_SOURCE_DIR llhttp.c
  HINTS ${LLHTTP_ROOT}/src
  PATHS /usr/share/llhttp
  NO_DEFAULT_PATH)
if(LLHTTP_SOURCE_DIR)
  set(LLHTTP_SOURCES ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c ${LLHTTP_SOURCE_DIR}/llhttp.c)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LLHTTP
  REQUIRED_VARS LLHTTP_SOURCE_DIR LLHTTP_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "llhttp's C sources were not found: install the Debian package node-llhttp (apt-get install node-llhttp), or set LLHTTP_ROOT")
mark_as_advanced(LLHTTP_INCLUDE_DIR LLHTTP_SOURCE_DIR)
