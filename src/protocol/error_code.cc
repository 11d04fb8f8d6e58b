#include "protocol/error_code.h"

namespace sluice::protocol {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
#define SLUICE_ERROR_NAME(name, code, retriable) \
  case ErrorCode::name:                          \
    return #name;
    SLUICE_KAFKA_ERRORS(SLUICE_ERROR_NAME)
#undef SLUICE_ERROR_NAME
  }
  return "UNKNOWN_ERROR_CODE";
}

bool IsRetriable(ErrorCode code) {
  switch (code) {
#define SLUICE_ERROR_RETRIABLE(name, code, retriable) \
  case ErrorCode::name:                               \
    return retriable;
    SLUICE_KAFKA_ERRORS(SLUICE_ERROR_RETRIABLE)
#undef SLUICE_ERROR_RETRIABLE
  }
  return false;
}

bool IsKnownErrorCode(int16_t code) {
  switch (static_cast<ErrorCode>(code)) {
#define SLUICE_ERROR_KNOWN(name, code, retriable) case ErrorCode::name:
    SLUICE_KAFKA_ERRORS(SLUICE_ERROR_KNOWN)
#undef SLUICE_ERROR_KNOWN
    return true;
  }
  return false;
}

}  // namespace sluice::protocol
