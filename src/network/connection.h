// Connection: one client socket on its shard. Internal to the network layer.
//
// Not thread-safe: every member runs on the owning shard's thread, except
// Deliver (from ResponseSink), which may be called from any thread and only
// posts to the shard. See server.h for the model (pipelining, ordering,
// back-pressure, writing).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio.hpp>

#include "base/output_chain.h"
#include "network/frame_decoder.h"
#include "network/request_handler.h"

namespace sluice::network {

class Shard;
struct ServerOptions;
struct ServerStats;

class Connection final : public detail::ResponseSink,
                         public std::enable_shared_from_this<Connection> {
 public:
  Connection(Shard& shard, asio::ip::tcp::socket socket, ConnectionContext context);
  ~Connection() override;

  void Start();
  // Graceful stop: read nothing more; close once in-flight requests are
  // answered and written.
  void BeginDrain();
  void Close(std::string_view why, bool warn = false);
  void CheckIdle(std::chrono::steady_clock::time_point now);

  // ResponseSink; any thread.
  void Deliver(uint64_t sequence, Response response) override;

 private:
  struct Slot {
    bool ready = false;
    Response response;
  };

  bool ReadPaused() const;
  void WaitReadable();
  void ReadSome();
  void ContinueReadingLater();
  bool Consume(const uint8_t* data, size_t size);  // False once closed.
  void Dispatch(Frame frame);
  void OnPeerEof();
  void MaybeResumeReading();
  void Complete(uint64_t sequence, Response response);
  void Enqueue(OutputChain body);
  void TryWrite();
  void WaitWritable();
  void Advance(size_t bytes);
  void MaybeFinish();
  void Touch() { last_activity_ = std::chrono::steady_clock::now(); }

  Shard& shard_;
  const ServerOptions& options_;
  RequestHandler& handler_;
  ServerStats& stats_;
  asio::ip::tcp::socket socket_;
  const asio::any_io_executor executor_;
  ConnectionContext context_;
  FrameDecoder decoder_;
  uint64_t reported_allocated_ = 0;

  // Bytes read from the socket but not yet decoded because reading paused.
  std::vector<uint8_t> pending_input_;

  // Requests dispatched and not yet moved to the write queue, oldest first;
  // slots_[i] holds sequence first_sequence_ + i.
  std::deque<Slot> slots_;
  uint64_t first_sequence_ = 0;

  std::deque<OutputChain::Piece> write_queue_;
  size_t head_offset_ = 0;    // Bytes of write_queue_.front() already sent.
  size_t queued_bytes_ = 0;   // Unsent bytes in write_queue_.
  std::vector<asio::const_buffer> iov_;

  uint64_t dispatched_ = 0;
  bool waiting_read_ = false;  // A readiness wait or a read continuation is pending.
  bool waiting_write_ = false;
  bool read_closed_ = false;       // Draining, peer EOF, or close-after-write.
  bool close_after_write_ = false;
  bool closed_ = false;
  std::string finish_reason_;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace sluice::network
