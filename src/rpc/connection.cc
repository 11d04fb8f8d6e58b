#include "rpc/connection.h"

#include <utility>

#include "base/endian.h"

namespace sluice::rpc {

Result<std::unique_ptr<Connection>> Connection::Connect(const std::string& host, int32_t port,
                                                        ConnectionOptions options) {
  std::shared_ptr<ShutdownSignal> signal = options.shutdown;
  if (signal == nullptr) {
    Result<std::shared_ptr<ShutdownSignal>> own = ShutdownSignal::Create();
    if (!own.ok()) return own.status();
    signal = std::move(own).value();
  }
  const Deadline deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  Failure failure = Failure::kNone;
  Result<std::unique_ptr<Socket>> socket = Socket::Connect(host, port, deadline, signal, &failure);
  if (!socket.ok()) return socket.status();
  return std::unique_ptr<Connection>(
      new Connection(std::move(socket).value(), std::move(signal), std::move(options)));
}

Status Connection::Break(Failure kind, Status status) {
  failure_ = kind;
  broken_status_ = status;
  return status;
}

Status Connection::Exchange(std::span<const uint8_t> request, int32_t correlation_id,
                            int16_t header_version, std::unique_ptr<uint8_t[]>* frame,
                            size_t* frame_size, size_t* body_offset) {
  if (request.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::InvalidArgument("request of " + std::to_string(request.size()) +
                                   " bytes does not fit a frame");
  }
  // One deadline for the whole exchange: a peer that trickles its answer
  // cannot stretch a call past the request timeout.
  const Deadline deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  Failure failure = Failure::kNone;
  uint8_t size_bytes[4];
  StoreBigEndian(size_bytes, static_cast<int32_t>(request.size()));
  Status s = socket_->WriteAll(size_bytes, request, deadline, &failure);
  if (!s.ok()) return Break(failure, std::move(s));

  s = socket_->ReadExactly(size_bytes, deadline, &failure);
  if (!s.ok()) return Break(failure, std::move(s));
  const int32_t size = LoadBigEndian<int32_t>(size_bytes);
  // Checked before anything is allocated: the smallest answer is a v0
  // response header (the correlation id).
  if (size < 4 || size > options_.max_response_bytes) {
    return Break(Failure::kProtocol,
                 Status::Corruption("response frame of " + std::to_string(size) + " bytes from " +
                                    peer() + " (allowed 4 to " +
                                    std::to_string(options_.max_response_bytes) + ")"));
  }
  // Not zero-filled: every byte is read into it before it is used.
  auto bytes = std::make_unique_for_overwrite<uint8_t[]>(static_cast<size_t>(size));
  s = socket_->ReadExactly({bytes.get(), static_cast<size_t>(size)}, deadline, &failure);
  if (!s.ok()) return Break(failure, std::move(s));

  protocol::Reader in(std::span<const uint8_t>(bytes.get(), static_cast<size_t>(size)));
  protocol::ResponseHeader header;
  s = header.Decode(in, header_version);
  if (!s.ok()) return Break(Failure::kProtocol, std::move(s));
  if (header.correlation_id != correlation_id) {
    // With one request in flight, any other id means the peer (or this
    // stream) is out of step; nothing after it can be trusted.
    return Break(Failure::kProtocol,
                 Status::Corruption("response from " + peer() + " has correlation id " +
                                    std::to_string(header.correlation_id) + ", expected " +
                                    std::to_string(correlation_id)));
  }
  *body_offset = static_cast<size_t>(size) - in.remaining();
  *frame_size = static_cast<size_t>(size);
  *frame = std::move(bytes);
  return Status::Ok();
}

}  // namespace sluice::rpc
