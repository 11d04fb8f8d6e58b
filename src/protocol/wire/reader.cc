#include "protocol/wire/reader.h"

namespace sluice::protocol {

Status Reader::Error(const std::string& what) const {
  return InRoot(Cursor::ErrorAt(field_, what, offset()));
}

}  // namespace sluice::protocol
