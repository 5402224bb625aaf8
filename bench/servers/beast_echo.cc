// Boost.Beast (Debian's) echo server for the benchmark kit: one thread, one io_context, the
// asynchronous read-a-message / write-it-back loop of Beast's own examples. Listens on
// 127.0.0.1, prints "PORT n", echoes every message with its opcode, exits when stdin closes.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unistd.h>

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket s) : ws_(std::move(s)) {}
  void start() {
    ws_.read_message_max(64u << 20);
    ws_.auto_fragment(false);
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

 private:
  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->ws_.text(self->ws_.got_text());
      self->ws_.async_write(self->buf_.data(), [self](beast::error_code ec2, std::size_t) {
        if (ec2) return;
        self->buf_.consume(self->buf_.size());
        self->read();
      });
    });
  }
  beast::websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
};

static void accept_loop(tcp::acceptor &acc) {
  acc.async_accept([&acc](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(s))->start();
    }
    accept_loop(acc);
  });
}

int main(int argc, char **argv) {
  asio::io_context ioc(1);
  tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                       static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0)));
  acc.listen(4096);
  std::printf("PORT %u\n", acc.local_endpoint().port());
  std::fflush(stdout);
  asio::posix::stream_descriptor in(ioc, ::dup(0));
  static char b[64];
  std::function<void()> watch = [&] {
    in.async_read_some(asio::buffer(b), [&](beast::error_code ec, std::size_t) {
      if (ec) std::exit(0);
      watch();
    });
  };
  watch();
  accept_loop(acc);
  ioc.run();
}
