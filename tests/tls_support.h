// Throwaway certificates for TLS tests: made once per test program by tests/tls/make_certs.sh
// (the openssl command-line tool) in a fresh temporary directory, removed at exit.
#ifndef WSC_TESTS_TLS_SUPPORT_H
#define WSC_TESTS_TLS_SUPPORT_H

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace wsc_test {

inline const std::string &cert_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/wsc-tls-XXXXXX";
    const char *d = mkdtemp(tmpl);
    if (d == nullptr) return std::string();
    std::string path = d;
    std::string cmd = std::string(WSC_TEST_DATA_DIR "/../tls/make_certs.sh ") + path + " >" + path + "/make.log 2>&1";
    if (std::system(cmd.c_str()) != 0) return std::string();
    static std::string keep = path;
    std::atexit([] { std::system(("rm -rf " + keep).c_str()); });
    return path;
  }();
  return dir;
}

// The path of a file made by make_certs.sh ("ca.pem", "server.key", ...).
inline std::string cert(const std::string &name) {
  EXPECT_FALSE(cert_dir().empty()) << "make_certs.sh failed";
  return cert_dir() + "/" + name;
}

inline std::string file_text(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace wsc_test

#endif
