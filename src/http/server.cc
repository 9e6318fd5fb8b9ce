#include "http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <deque>
#include <optional>

#include "common/files.h"
#include "common/json_text.h"
#include "http/edge.h"
#include "http/listen.h"
#include "http/response.h"
#include "http/sessions.h"
#include "http/tls.h"

namespace cqda::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t kReadSize = 4096;
constexpr auto kLingerTime = std::chrono::seconds(1);  // to say goodbye before closing
constexpr std::size_t kLingerBytes = 64 * 1024;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// A POST without a session must be one initialize request and nothing else.
bool is_initialize_request(std::string_view body) {
  auto payload = mcp::parse_payload(body, /*batches=*/false, mcp::MessageLimits{});
  return !payload.batch && payload.failures.empty() && payload.messages.size() == 1 &&
         payload.messages[0].kind == mcp::Incoming::Kind::kRequest &&
         payload.messages[0].method == "initialize";
}

Response refusal_response(const Refusal& refusal) {
  Response r = error_response(refusal.status, refusal.reason);
  if (!refusal.www_authenticate.empty())
    r.headers.emplace_back("WWW-Authenticate", std::string(refusal.www_authenticate));
  return r;
}

Response retry_later(unsigned status, std::string_view reason, Clock::duration wait) {
  Response r = error_response(status, reason);
  auto seconds = std::max<long long>(
      1, static_cast<long long>(std::ceil(std::chrono::duration<double>(wait).count())));
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

// Errors a client's bytes caused (as opposed to the connection ending or timing out).
bool is_malformed(const beast::error_code& ec) {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_method).category();
  return ec.category() == category && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message;
}

class ConnectionBase;

}  // namespace

struct Server::Impl {
  Impl(ServerOptions opts, SessionFactory make_session, EdgePolicy policy,
       std::unique_ptr<ssl::context> context)
      : options(std::move(opts)),
        edge(std::move(policy)),
        factory(std::move(make_session)),
        tls(std::move(context)),
        sessions({options.limits.max_sessions,
                  std::chrono::duration_cast<Clock::duration>(options.limits.session_idle),
                  options.limits.requests_per_second, options.limits.burst}),
        workers(options.workers) {}

  void do_accept();
  void on_accept(const beast::error_code& ec, tcp::socket socket);
  void schedule_sweep();
  void close_all();
  void sessions_changed() { session_count = sessions.size(); }
  void report(std::string_view message) const {
    if (options.on_error) return options.on_error(message);
    std::fprintf(stderr, "cqda http: %.*s\n", static_cast<int>(message.size()), message.data());
  }

  // Destroyed in reverse: the workers are joined first (they post to the io_context), then
  // the io_context destroys the connections its handlers hold; what a connection's
  // destructor touches (the counter) is declared before it.
  const ServerOptions options;
  const EdgePolicy edge;
  const SessionFactory factory;
  std::unique_ptr<ssl::context> tls;  // null for plain HTTP
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> session_count{0};
  SessionTable sessions;                            // I/O thread only
  std::vector<std::weak_ptr<ConnectionBase>> live;  // I/O thread only: for stop()
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  net::steady_timer sweep{ioc};
  net::thread_pool workers;
};

namespace {

class ConnectionBase : public std::enable_shared_from_this<ConnectionBase> {
 public:
  explicit ConnectionBase(Server::Impl& server) : server_(server) { ++server_.connections; }
  virtual ~ConnectionBase() { --server_.connections; }
  ConnectionBase(const ConnectionBase&) = delete;
  virtual void start() = 0;
  virtual void close() = 0;

 protected:
  Server::Impl& server_;
};

// One client connection: the TLS handshake, then requests one at a time (keep-alive), each
// read under a deadline, checked at the edge, and answered with a response or an event
// stream. Every member is touched on the I/O thread only; workers reach it by posting.
template <class Stream>
class Connection final : public ConnectionBase {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  enum class Part { kMore, kLast };  // of a response being written
  struct Chunk {
    std::string bytes;
    Part part = Part::kMore;
  };
  enum class Reply { kNone, kWaiting, kStreaming };  // how the current exchange is answered

 public:
  Connection(Server::Impl& server, tcp::socket socket)
      : ConnectionBase(server),
        limits_(server.options.limits),
        stream_(make_stream(std::move(socket), server)),
        // Bounded: Beast does not limit chunk extensions or trailers, so the buffer does.
        buffer_(limits_.max_header_bytes + limits_.max_body_bytes + 64 * 1024) {}

  void start() override {
    if constexpr (kTls) {
      lowest().expires_after(limits_.request_time);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = shared()](const beast::error_code& ec) {
                                if (ec) return self->close();
                                self->wait_for_request();
                              });
    } else {
      wait_for_request();
    }
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    lowest().close();
  }

 private:
  static Stream make_stream(tcp::socket socket, Server::Impl& server) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *server.tls);
    } else {
      return Stream(std::move(socket));
    }
  }
  std::shared_ptr<Connection> shared() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // --- reading a request -----------------------------------------------------------------

  // A keep-alive connection may wait `idle_time` for the first byte of its next request; a
  // new connection only `request_time` for its first (idle sockets must not hold the slots).
  // From the first byte on, the head and body must arrive within `request_time` (slowloris).
  void wait_for_request() {
    if (buffer_.size() > 0) return read_head();  // the client sent it already (pipelining)
    lowest().expires_after(served_ ? limits_.idle_time : limits_.request_time);
    stream_.async_read_some(buffer_.prepare(kReadSize),
                            [self = shared()](const beast::error_code& ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_head();
                            });
  }

  void read_head() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(limits_.max_body_bytes);
    lowest().expires_after(limits_.request_time);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared()](const beast::error_code& ec, std::size_t) { self->on_head(ec); });
  }

  void on_head(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit) return refuse({431, "request header fields too large"});
    // A Content-Length over the limit is refused before the body is read.
    if (ec == bhttp::error::body_limit) return refuse({413, "request body too large"});
    if (ec) return is_malformed(ec) ? refuse({400, "malformed request"}) : close();
    const RequestHead& head = parser_->get();
    if (auto refusal = check_head(head, server_.edge)) return refuse(*refusal);
    keep_alive_ = parser_->keep_alive();
    if (head.count(bhttp::field::expect) == 0) return read_body();
    // Expect: 100-continue (check_head allows no other): the client waits for this before
    // sending its body. The request deadline keeps running.
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared()](const beast::error_code& ec, std::size_t) {
                       if (ec) return self->close();
                       self->read_body();
                     });
  }

  void read_body() {
    bhttp::async_read(
        stream_, buffer_, *parser_, [self = shared()](const beast::error_code& ec, std::size_t) {
          if (ec == bhttp::error::body_limit) return self->refuse({413, "request body too large"});
          if (ec)
            return is_malformed(ec) ? self->refuse({400, "malformed request body"}) : self->close();
          self->lowest().expires_never();  // handling may take long; writes set their own deadline
          self->route();
        });
  }

  // --- answering -------------------------------------------------------------------------

  void route() {
    const auto& request = parser_->get();
    if (request.target() != "/mcp") return respond(error_response(404, "not found"));
    switch (request.method()) {
      case bhttp::verb::post:
        return post();
      case bhttp::verb::delete_:
        return end_session();
      default: {
        // GET would open a stream for messages the server starts; it starts none.
        Response r = error_response(405, "method not allowed");
        r.headers.emplace_back("Allow", "POST, DELETE");
        return respond(std::move(r));
      }
    }
  }

  void post() {
    const auto& request = parser_->get();
    if (auto refusal = check_post_media(request)) return respond(refusal_response(*refusal));
    auto id = single_field(request, "Mcp-Session-Id");
    if (!id) return respond(error_response(400, "Mcp-Session-Id appears more than once"));
    if (!id->has_value() || (*id)->empty()) return initialize();
    SessionTable::Entry* entry = admit(**id);
    if (!entry) return;
    const std::uint64_t exchange = ++exchange_;
    auto session = entry->session;
    auto work = session->accept(request.body(), sender(exchange));
    if (!work.has_requests()) {
      // Notifications and responses are handled; what is left are errors for bad messages.
      auto errors = work.run();
      return respond(errors ? json_response(400, std::move(*errors)) : Response{202});
    }
    ++entry->running;
    session_id_ = std::string(**id);
    dispatch(exchange, std::move(work), std::move(session));
  }

  void initialize() {
    const auto& request = parser_->get();
    if (auto version = single_field(request, "MCP-Protocol-Version");
        !version || (version->has_value() && !mcp::is_supported_version(**version)))
      return respond(error_response(400, "unsupported MCP-Protocol-Version"));
    if (!is_initialize_request(request.body()))
      return respond(error_response(
          400, "Mcp-Session-Id header required (a new session starts with initialize)"));
    if (!server_.sessions.reserve(Clock::now()))
      return respond(retry_later(503, "too many sessions", std::chrono::seconds(60)));
    std::shared_ptr<mcp::Session> session;
    try {
      session = server_.factory();
    } catch (const std::exception& e) {
      server_.report(std::string("session factory: ") + e.what());
    }
    if (!session) {
      server_.sessions.release();
      return respond(error_response(500, "internal error"));
    }
    // No sender: the client has no session to receive notifications in yet, and initialize
    // sends none.
    auto work = session->accept(request.body(), {});
    new_session_ = session;
    dispatch(++exchange_, std::move(work), std::move(session));
  }

  void end_session() {
    auto id = single_field(parser_->get(), "Mcp-Session-Id");
    if (!id || !id->has_value() || (*id)->empty())
      return respond(error_response(400, "Mcp-Session-Id header required"));
    if (!admit(**id)) return;
    server_.sessions.erase(**id);
    server_.sessions_changed();
    respond(Response{204});
  }

  // The session a request names, after the protocol version and rate checks; nullptr when a
  // refusal has been sent.
  SessionTable::Entry* admit(std::string_view id) {
    const auto now = Clock::now();
    auto version = single_field(parser_->get(), "MCP-Protocol-Version");
    if (!version || (version->has_value() && !mcp::is_supported_version(**version))) {
      respond(error_response(400, "unsupported MCP-Protocol-Version"));
      return nullptr;
    }
    SessionTable::Entry* entry = server_.sessions.find(id, now);
    server_.sessions_changed();
    if (!entry) {
      respond(error_response(404, "unknown or ended session"));
      return nullptr;
    }
    if (version->has_value() && server_.options.version_header == VersionHeader::kSessionVersion &&
        **version != entry->session->protocol_version()) {
      respond(error_response(400, "MCP-Protocol-Version differs from the session's"));
      return nullptr;
    }
    if (auto wait = entry->bucket.take(now)) {
      respond(retry_later(429, "too many requests", *wait));
      return nullptr;
    }
    return entry;
  }

  // Notifications a handler sends while it runs, posted to the I/O thread in order.
  mcp::Sender sender(std::uint64_t exchange) {
    return [weak = weak_from_this(), exchange, &ioc = server_.ioc](const Json& message) {
      std::string text = json_text(message);
      net::post(ioc, [weak, exchange, text = std::move(text)]() mutable {
        if (auto self = weak.lock())
          static_cast<Connection&>(*self).on_message(exchange, std::move(text));
      });
    };
  }

  // Runs the requests on a worker (never on the I/O thread); the result comes back by post.
  void dispatch(std::uint64_t exchange, mcp::Session::Work work,
                std::shared_ptr<mcp::Session> session) {
    reply_ = Reply::kWaiting;
    parser_.reset();  // the body now lives in `work`
    net::post(server_.workers, [self = shared(), exchange, work = std::move(work),
                                session = std::move(session)]() mutable {
      std::optional<std::string> text;
      bool failed = false;
      try {
        text = work.run();
      } catch (...) {
        failed = true;
      }
      auto& ioc = self->server_.ioc;
      net::post(ioc, [self = std::move(self), exchange, text = std::move(text), failed]() mutable {
        self->on_done(exchange, std::move(text), failed);
      });
    });
  }

  // The first notification turns the answer into an event stream.
  void on_message(std::uint64_t exchange, std::string text) {
    if (exchange != exchange_ || reply_ == Reply::kNone) return;
    if (reply_ == Reply::kWaiting) {
      reply_ = Reply::kStreaming;
      Response head;
      head.event_stream = true;
      send(render(head), Part::kMore);
    }
    send(event_chunk(text), Part::kMore);
  }

  void on_done(std::uint64_t exchange, std::optional<std::string> text, bool failed) {
    if (exchange != exchange_) return;
    const auto now = Clock::now();
    std::string new_id;
    if (auto session = std::move(new_session_)) {
      // The session is kept only if initialize succeeded.
      if (session->state() == mcp::Session::State::kNew) {
        server_.sessions.release();
      } else if (auto id = server_.sessions.insert(std::move(session), now)) {
        new_id = std::move(*id);
      } else {
        server_.report(id.error().message);
        failed = true;
      }
      server_.sessions_changed();
    } else if (auto* entry = server_.sessions.find(session_id_, now); entry && entry->running > 0) {
      --entry->running;
    }
    const Reply reply = std::exchange(reply_, Reply::kNone);
    if (reply == Reply::kStreaming) {
      // A cancelled request (no text) ends the stream without a response.
      std::string tail = text ? event_chunk(*text) : std::string();
      tail += last_chunk();
      close_after_ = !keep_alive_;
      return send(std::move(tail), Part::kLast);
    }
    if (failed) return respond(error_response(500, "internal error"));
    if (!text) return respond(Response{202});
    Response r = json_response(200, std::move(*text));
    if (!new_id.empty()) r.headers.emplace_back("Mcp-Session-Id", new_id);
    respond(std::move(r));
  }

  // --- writing ---------------------------------------------------------------------------

  // A refusal made before the whole request was read: the rest of it is never read, so the
  // connection closes after the answer.
  void refuse(const Refusal& refusal) {
    keep_alive_ = false;
    respond(refusal_response(refusal));
  }

  void respond(Response response) {
    if (!keep_alive_) response.close = true;
    close_after_ = response.close;
    send(render(response), Part::kLast);
  }

  // Queues bytes to write; kLast ends the response (then the next request, or goodbye).
  void send(std::string bytes, Part part) {
    if (closed_) return;
    backlog_ += bytes.size();
    // Events queued for a client that does not read are bounded; a whole response (the
    // last part, with nothing queued before it) always goes out.
    if (backlog_ > limits_.max_stream_backlog && !(part == Part::kLast && out_.empty())) return close();
    out_.push_back({std::move(bytes), part});
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    lowest().expires_after(limits_.request_time);
    net::async_write(
        stream_, net::buffer(out_.front().bytes),
        [self = shared()](const beast::error_code& ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(const beast::error_code& ec) {
    writing_ = false;
    if (ec) return close();
    Chunk done = std::move(out_.front());
    out_.pop_front();
    backlog_ -= done.bytes.size();
    if (done.part == Part::kLast) served_ = true;
    if (!out_.empty()) return write_next();
    if (done.part == Part::kMore) return lowest().expires_never();  // more events to come
    if (close_after_) return say_goodbye();
    wait_for_request();
  }

  // Ends the connection after a response: TLS sends close_notify; plain HTTP half-closes and
  // reads what the client still sends for a moment, so that unread bytes do not turn the
  // close into a reset that could destroy the response before the client reads it.
  void say_goodbye() {
    lowest().expires_after(kLingerTime);
    if constexpr (kTls) {
      stream_.async_shutdown([self = shared()](const beast::error_code&) { self->close(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      drain(0);
    }
  }

  void drain(std::size_t total) {
    stream_.async_read_some(buffer_.prepare(kReadSize),
                            [self = shared(), total](const beast::error_code& ec, std::size_t n) {
                              if (ec || total + n > kLingerBytes) return self->close();
                              self->drain(total + n);
                            });
  }

  const Limits& limits_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool served_ = false;  // a response has been sent on this connection
  // Output, written in order.
  std::deque<Chunk> out_;
  std::size_t backlog_ = 0;
  bool writing_ = false;
  bool close_after_ = false;
  // The exchange being answered: a POST whose requests run on a worker.
  Reply reply_ = Reply::kNone;
  std::uint64_t exchange_ = 0;  // numbers exchanges, so a late message for an old one is dropped
  std::string session_id_;
  std::shared_ptr<mcp::Session> new_session_;  // initialize: kept only if it succeeds
};

}  // namespace

void Server::Impl::do_accept() {
  acceptor.async_accept(ioc, [this](const beast::error_code& ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(const beast::error_code& ec, tcp::socket socket) {
  if (!acceptor.is_open()) return;
  if (ec) {
    // EMFILE and the like: retry shortly rather than spin.
    report("accept: " + ec.message());
    accept_retry.expires_after(kAcceptRetry);
    accept_retry.async_wait([this](const beast::error_code& e) {
      if (!e) do_accept();
    });
    return;
  }
  if (connections.load() >= options.limits.max_connections) {
    socket.close();  // over the cap: closed at once, before any byte is read
    return do_accept();
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // events are small and must not wait
  std::shared_ptr<ConnectionBase> connection;
  if (tls) {
    connection = std::make_shared<Connection<TlsStream>>(*this, std::move(socket));
  } else {
    connection = std::make_shared<Connection<PlainStream>>(*this, std::move(socket));
  }
  if (live.size() > 2 * connections.load() + 16)
    std::erase_if(live, [](const auto& weak) { return weak.expired(); });
  live.push_back(connection);
  connection->start();
  do_accept();
}

void Server::Impl::schedule_sweep() {
  auto period = std::min<Clock::duration>(std::chrono::minutes(1), options.limits.session_idle);
  sweep.expires_after(period);
  sweep.async_wait([this](const beast::error_code& ec) {
    if (ec) return;
    sessions.expire(Clock::now());
    sessions_changed();
    schedule_sweep();
  });
}

void Server::Impl::close_all() {
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  sweep.cancel();
  for (auto& weak : live)
    if (auto connection = weak.lock()) connection->close();
  live.clear();
}

Result<std::unique_ptr<Server>> Server::create(UniqueFd listener, ServerOptions options,
                                               SessionFactory factory) {
  if (!listener.valid()) return make_error("http server: no listening socket");
  int listening = 0;
  socklen_t size = sizeof(listening);
  if (::getsockopt(listener.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening)
    return make_error("http server: the socket is not listening");
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return make_error("http server: getsockname: " + errno_text(errno));
  auto port = local_port(listener.get());
  auto loopback = is_loopback(listener.get());
  if (!port) return port.error();
  if (!loopback) return loopback.error();
  const bool plain = options.transport == Transport::kPlainLoopback;
  if (plain && !*loopback)
    return make_error(
        "http server: plain HTTP is allowed only on a loopback address (127.0.0.1 or ::1); use "
        "TLS");
  if (!factory) return make_error("http server: no session factory");
  if (options.workers == 0 || options.workers > 64)
    return make_error("http server: workers must be 1 to 64");
  auto edge = make_edge_policy(plain ? Scheme::kHttp : Scheme::kHttps, *port, options.allowed_hosts,
                               options.bearer_token, options.limits.max_body_bytes);
  if (!edge) return make_error("http server: " + edge.error().message);
  options.bearer_token.clear();  // only its digest is kept
  if (auto status = init_openssl(); !status) return status.error();
  std::unique_ptr<ssl::context> tls;
  if (!plain) {
    if (options.certificate_chain_pem.empty() || options.private_key_pem.empty())
      return make_error(
          "http server: TLS needs a certificate chain and a private key (see cqda certs)");
    auto context = make_tls_context(options.certificate_chain_pem, options.private_key_pem);
    if (!context) return context.error();
    tls = std::move(*context);
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(factory), std::move(*edge),
                                     std::move(tls));
  beast::error_code ec;
  impl->acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listener.get(), ec);
  if (ec) return make_error("http server: adopting the listening socket: " + ec.message());
  listener.release();  // the acceptor owns it now
  impl->do_accept();
  impl->schedule_sweep();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  impl_->workers.stop();
  impl_->workers.join();
}

void Server::run() {
  auto guard = net::make_work_guard(impl_->ioc);
  while (true) {
    try {
      impl_->ioc.run();
      return;
    } catch (const std::exception& e) {  // a bug in a handler must not end the server
      impl_->report(std::string("I/O thread: ") + e.what());
    }
  }
}

void Server::stop() {
  net::post(impl_->ioc, [impl = impl_.get()] {
    impl->close_all();
    impl->ioc.stop();
  });
}

std::uint16_t Server::port() const { return impl_->edge.port; }
std::size_t Server::open_connections() const { return impl_->connections.load(); }
std::size_t Server::open_sessions() const { return impl_->session_count.load(); }

}  // namespace cqda::http
