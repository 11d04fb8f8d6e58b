// Everything a generated message header needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/records.h"
#include "protocol/wire/types.h"
#include "protocol/wire/writer.h"
