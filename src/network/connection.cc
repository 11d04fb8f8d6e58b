#include "network/connection.h"

#include <sys/sendfile.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>

#include "base/endian.h"
#include "network/log.h"
#include "network/server.h"
#include "network/shard.h"

namespace sluice::network {

namespace {
constexpr size_t kMaxIov = 64;
constexpr size_t kMaxSendfileChunk = size_t{1} << 30;
constexpr int kReadRoundsPerWakeup = 16;  // Then yield to other connections.

bool WouldBlock(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}
}  // namespace

Connection::Connection(Shard& shard, asio::ip::tcp::socket socket, ConnectionContext context)
    : shard_(shard),
      options_(shard.options()),
      handler_(shard.handler()),
      stats_(shard.stats()),
      socket_(std::move(socket)),
      executor_(socket_.get_executor()),
      context_(std::move(context)),
      decoder_(options_.max_request_bytes) {
  Touch();
}

Connection::~Connection() = default;

void Connection::Start() {
  std::error_code ec;
  socket_.non_blocking(true, ec);
  if (!ec) socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (!ec && options_.send_buffer_bytes > 0) {
    socket_.set_option(asio::socket_base::send_buffer_size(options_.send_buffer_bytes), ec);
  }
  if (!ec && options_.receive_buffer_bytes > 0) {
    socket_.set_option(asio::socket_base::receive_buffer_size(options_.receive_buffer_bytes), ec);
  }
  handler_.OnConnectionOpened(context_);
  if (ec) {
    Close("socket setup failed: " + ec.message());
    return;
  }
  WaitReadable();
}

bool Connection::ReadPaused() const {
  return slots_.size() >= options_.max_inflight_requests ||
         queued_bytes_ >= options_.max_queued_write_bytes;
}

void Connection::WaitReadable() {
  if (waiting_read_ || read_closed_ || closed_) return;
  waiting_read_ = true;
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](const std::error_code& ec) {
                       self->waiting_read_ = false;
                       if (self->closed_ || self->read_closed_) return;
                       if (ec) {
                         self->Close("wait for read failed: " + ec.message());
                         return;
                       }
                       self->ReadSome();
                     });
}

void Connection::ReadSome() {
  const uint64_t dispatched_before = dispatched_;
  for (int round = 0; round < kReadRoundsPerWakeup; ++round) {
    if (closed_ || read_closed_) return;
    if (ReadPaused()) {
      stats_.read_pauses.fetch_add(1, std::memory_order_relaxed);
      return;  // MaybeResumeReading re-arms.
    }
    if (dispatched_ != dispatched_before) {
      // Let the answers already given (posted) be queued first, so the
      // back-pressure check above sees their bytes before reading more.
      return ContinueReadingLater();
    }
    std::error_code ec;
    size_t n = 0;
    std::span<uint8_t> direct = decoder_.body_remaining();
    if (!direct.empty()) {
      // Mid-frame: read straight into the frame, no copy.
      n = socket_.read_some(asio::buffer(direct.data(), direct.size()), ec);
      if (n > 0) {
        Touch();
        if (auto frame = decoder_.BodyFilled(n)) Dispatch(std::move(*frame));
      }
    } else {
      std::span<uint8_t> scratch = shard_.scratch();
      n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
      if (n > 0) {
        Touch();
        if (!Consume(scratch.data(), n)) return;
      }
    }
    if (closed_) return;
    if (WouldBlock(ec)) return WaitReadable();
    if (ec == asio::error::eof) return OnPeerEof();
    if (ec) return Close("read failed: " + ec.message());
  }
  ContinueReadingLater();  // Busy socket: yield to the shard's other work.
}

void Connection::ContinueReadingLater() {
  if (waiting_read_ || read_closed_ || closed_) return;
  waiting_read_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->waiting_read_ = false;
    if (self->closed_ || self->read_closed_) return;
    self->ReadSome();
  });
}

bool Connection::Consume(const uint8_t* data, size_t size) {
  while (size > 0) {
    if (closed_) return false;
    if (read_closed_) return true;  // Draining: the rest is ignored.
    if (ReadPaused()) {
      stats_.read_pauses.fetch_add(1, std::memory_order_relaxed);
      pending_input_.insert(pending_input_.end(), data, data + size);
      return true;
    }
    auto step = decoder_.Next({data, size});
    const uint64_t allocated = decoder_.bytes_allocated();
    stats_.frame_bytes_allocated.fetch_add(allocated - reported_allocated_,
                                           std::memory_order_relaxed);
    reported_allocated_ = allocated;
    if (!step.ok()) {
      stats_.frames_rejected.fetch_add(1, std::memory_order_relaxed);
      Close(step.status().message(), /*warn=*/true);
      return false;
    }
    data += step->consumed;
    size -= step->consumed;
    if (step->frame) Dispatch(std::move(*step->frame));
  }
  return !closed_;
}

void Connection::Dispatch(Frame frame) {
  const uint64_t sequence = first_sequence_ + slots_.size();
  slots_.emplace_back();
  ++dispatched_;
  stats_.requests_received.fetch_add(1, std::memory_order_relaxed);
  Responder responder(std::weak_ptr<detail::ResponseSink>(weak_from_this()), sequence);
  try {
    handler_.Handle(context_, std::move(frame), std::move(responder));
  } catch (const std::exception& e) {
    Close(std::string("request handler threw: ") + e.what(), /*warn=*/true);
  }
}

void Connection::OnPeerEof() {
  if (!decoder_.at_boundary()) {
    Close("peer closed the connection in the middle of a request");
    return;
  }
  // Answer what was asked, then close (the peer may have only shut down its
  // sending side).
  read_closed_ = true;
  finish_reason_ = "peer closed the connection";
  MaybeFinish();
}

void Connection::MaybeResumeReading() {
  if (closed_ || read_closed_ || ReadPaused()) return;
  if (!pending_input_.empty()) {
    std::vector<uint8_t> input;
    input.swap(pending_input_);
    if (!Consume(input.data(), input.size())) return;
    if (ReadPaused() || read_closed_) return;
  }
  WaitReadable();
}

void Connection::Deliver(uint64_t sequence, Response response) {
  asio::post(executor_, [self = shared_from_this(), sequence,
                         response = std::move(response)]() mutable {
    self->Complete(sequence, std::move(response));
  });
}

void Connection::Complete(uint64_t sequence, Response response) {
  if (closed_) return;
  if (sequence < first_sequence_ || sequence - first_sequence_ >= slots_.size()) return;
  Slot& slot = slots_[sequence - first_sequence_];
  slot.ready = true;
  slot.response = std::move(response);
  while (!slots_.empty() && slots_.front().ready) {
    Response ready = std::move(slots_.front().response);
    slots_.pop_front();
    ++first_sequence_;
    if (ready.kind == Response::Kind::kSend) {
      Enqueue(std::move(ready.body));
    } else if (ready.kind == Response::Kind::kBuildInTurn) {
      Enqueue(ready.build());
    } else if (ready.kind == Response::Kind::kClose) {
      // Write what came before, then close; later answers are dropped.
      read_closed_ = true;
      close_after_write_ = true;
      finish_reason_ = "closed by request handler: " + ready.reason;
      first_sequence_ += slots_.size();
      slots_.clear();
      pending_input_.clear();
    }
  }
  if (closed_) return;
  if (!waiting_write_) TryWrite();
}

void Connection::Enqueue(OutputChain body) {
  if (body.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    Close("response larger than 2 GiB", /*warn=*/true);
    return;
  }
  std::vector<uint8_t> prefix(4);
  StoreBigEndian<int32_t>(prefix.data(), static_cast<int32_t>(body.size()));
  queued_bytes_ += 4 + body.size();
  write_queue_.emplace_back(std::move(prefix));
  for (auto& piece : body.mutable_pieces()) write_queue_.emplace_back(std::move(piece));
}

void Connection::TryWrite() {
  while (!closed_ && !write_queue_.empty()) {
    if (auto* first = std::get_if<std::vector<uint8_t>>(&write_queue_.front())) {
      // Gather consecutive in-memory pieces into one writev.
      iov_.clear();
      iov_.emplace_back(first->data() + head_offset_, first->size() - head_offset_);
      for (auto it = write_queue_.begin() + 1; it != write_queue_.end() && iov_.size() < kMaxIov;
           ++it) {
        auto* bytes = std::get_if<std::vector<uint8_t>>(&*it);
        if (bytes == nullptr) break;
        iov_.emplace_back(bytes->data(), bytes->size());
      }
      std::error_code ec;
      const size_t n = socket_.write_some(iov_, ec);
      if (WouldBlock(ec)) return WaitWritable();
      if (ec) return Close("write failed: " + ec.message());
      Advance(n);
    } else {
      const FileSlice& slice = std::get<FileSlice>(write_queue_.front());
      off_t offset = static_cast<off_t>(slice.offset + head_offset_);
      const size_t want = std::min<uint64_t>(slice.length - head_offset_, kMaxSendfileChunk);
      const ssize_t n = ::sendfile(socket_.native_handle(), slice.fd, &offset, want);
      if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) return WaitWritable();
        if (err == EINTR) continue;
        return Close(std::string("sendfile failed: ") + std::strerror(err));
      }
      if (n == 0) return Close("file slice ended before its length (file truncated?)", true);
      stats_.bytes_sent_sendfile.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      Advance(static_cast<size_t>(n));
    }
  }
  if (closed_) return;
  MaybeFinish();
  MaybeResumeReading();
}

void Connection::WaitWritable() {
  waiting_write_ = true;
  socket_.async_wait(asio::socket_base::wait_write,
                     [self = shared_from_this()](const std::error_code& ec) {
                       self->waiting_write_ = false;
                       if (self->closed_) return;
                       if (ec) return self->Close("wait for write failed: " + ec.message());
                       self->TryWrite();
                     });
}

void Connection::Advance(size_t bytes) {
  Touch();
  queued_bytes_ -= bytes;
  while (bytes > 0) {
    auto& head = write_queue_.front();
    const size_t size = std::holds_alternative<FileSlice>(head)
                            ? static_cast<size_t>(std::get<FileSlice>(head).length)
                            : std::get<std::vector<uint8_t>>(head).size();
    const size_t left = size - head_offset_;
    if (bytes < left) {
      head_offset_ += bytes;
      return;
    }
    bytes -= left;
    head_offset_ = 0;
    write_queue_.pop_front();
  }
}

void Connection::MaybeFinish() {
  if (closed_ || !read_closed_ || !write_queue_.empty()) return;
  if (close_after_write_ || slots_.empty()) Close(finish_reason_, close_after_write_);
}

void Connection::BeginDrain() {
  if (closed_) return;
  read_closed_ = true;
  pending_input_.clear();
  if (finish_reason_.empty()) finish_reason_ = "server stopping";
  MaybeFinish();
}

void Connection::CheckIdle(std::chrono::steady_clock::time_point now) {
  if (closed_ || !slots_.empty() || !write_queue_.empty()) return;
  if (now - last_activity_ >= options_.idle_timeout) {
    Close("idle for longer than connections.max.idle.ms");
  }
}

void Connection::Close(std::string_view why, bool warn) {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // Remove() below drops the shard's reference.
  if (warn) {
    Log().warn("closing connection {} from {}:{}: {}", context_.id(), context_.peer_address(),
               context_.peer_port(), why);
  } else {
    Log().debug("closing connection {} from {}:{}: {}", context_.id(), context_.peer_address(),
                context_.peer_port(), why);
  }
  std::error_code ignored;
  socket_.close(ignored);
  write_queue_.clear();
  slots_.clear();
  pending_input_.clear();
  queued_bytes_ = 0;
  handler_.OnConnectionClosed(context_);
  stats_.connections_closed.fetch_add(1, std::memory_order_relaxed);
  shard_.Remove(context_.id());
}

}  // namespace sluice::network
