#include "config/config_def.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

namespace sluice::config {

namespace {

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n\f";
  const size_t begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(ws);
  return s.substr(begin, end - begin + 1);
}

template <typename T>
std::optional<T> ParseInteger(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  if (Trim(s).empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    out.emplace_back(Trim(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

const char* ConfigTypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kBoolean: return "BOOLEAN";
    case ConfigType::kString: return "STRING";
    case ConfigType::kInt: return "INT";
    case ConfigType::kShort: return "SHORT";
    case ConfigType::kLong: return "LONG";
    case ConfigType::kDouble: return "DOUBLE";
    case ConfigType::kList: return "LIST";
    case ConfigType::kClass: return "CLASS";
    case ConfigType::kPassword: return "PASSWORD";
  }
  return "UNKNOWN";
}

const char* ConfigSourceName(ConfigSource source) {
  switch (source) {
    case ConfigSource::kUnknown: return "UNKNOWN";
    case ConfigSource::kDynamicTopic: return "DYNAMIC_TOPIC_CONFIG";
    case ConfigSource::kDynamicBroker: return "DYNAMIC_BROKER_CONFIG";
    case ConfigSource::kDynamicDefaultBroker: return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case ConfigSource::kStaticBroker: return "STATIC_BROKER_CONFIG";
    case ConfigSource::kDefault: return "DEFAULT_CONFIG";
  }
  return "UNKNOWN";
}

std::optional<std::string> FormatConfigValue(const ConfigValue& value) {
  struct Visitor {
    std::optional<std::string> operator()(std::monostate) const { return std::nullopt; }
    std::optional<std::string> operator()(bool b) const { return b ? "true" : "false"; }
    std::optional<std::string> operator()(int32_t v) const { return std::to_string(v); }
    std::optional<std::string> operator()(int64_t v) const { return std::to_string(v); }
    std::optional<std::string> operator()(double v) const { return fmt::format("{}", v); }
    std::optional<std::string> operator()(const std::string& s) const { return s; }
    std::optional<std::string> operator()(const std::vector<std::string>& list) const {
      return fmt::format("{}", fmt::join(list, ","));
    }
  };
  return std::visit(Visitor{}, value);
}

Result<ConfigValue> ParseConfigValue(const ConfigDef& def, std::string_view raw) {
  const std::string_view text = Trim(raw);
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid value '{}' for configuration '{}': {}", raw, def.name, why));
  };
  ConfigValue value;
  switch (def.type) {
    case ConfigType::kBoolean:
      // Kafka accepts true/false in any case.
      if (text.size() == 4 && strncasecmp(text.data(), "true", 4) == 0) {
        value = true;
      } else if (text.size() == 5 && strncasecmp(text.data(), "false", 5) == 0) {
        value = false;
      } else {
        return invalid("expected true or false");
      }
      break;
    case ConfigType::kInt: {
      auto v = ParseInteger<int32_t>(text);
      if (!v) return invalid("expected a 32-bit integer");
      value = *v;
      break;
    }
    case ConfigType::kShort: {
      auto v = ParseInteger<int16_t>(text);
      if (!v) return invalid("expected a 16-bit integer");
      value = static_cast<int32_t>(*v);
      break;
    }
    case ConfigType::kLong: {
      auto v = ParseInteger<int64_t>(text);
      if (!v) return invalid("expected a 64-bit integer");
      value = *v;
      break;
    }
    case ConfigType::kDouble: {
      std::string copy(text);
      char* end = nullptr;
      const double v = std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(v)) {
        return invalid("expected a number");
      }
      value = v;
      break;
    }
    case ConfigType::kList:
      value = SplitList(text);
      break;
    case ConfigType::kString:
    case ConfigType::kClass:
    case ConfigType::kPassword:
      value = std::string(text);
      break;
  }
  if (def.validator) {
    if (auto why = def.validator(value)) return invalid(*why);
  }
  return value;
}

ConfigValue DefaultValue(const ConfigDef& def) {
  if (!def.default_text) return std::monostate{};
  auto parsed = ParseConfigValue(def, *def.default_text);
  if (!parsed.ok()) std::abort();  // The registry itself is wrong.
  return std::move(parsed).value();
}

Validator AtLeast(int64_t min) {
  return [min](const ConfigValue& v) -> std::optional<std::string> {
    int64_t n = 0;
    if (auto* i = std::get_if<int32_t>(&v)) {
      n = *i;
    } else if (auto* l = std::get_if<int64_t>(&v)) {
      n = *l;
    } else {
      return std::nullopt;  // Null is allowed.
    }
    if (n < min) return fmt::format("must be at least {}", min);
    return std::nullopt;
  };
}

Validator Between(double min, double max) {
  return [min, max](const ConfigValue& v) -> std::optional<std::string> {
    double d = 0;
    if (auto* x = std::get_if<double>(&v)) {
      d = *x;
    } else if (auto* i = std::get_if<int32_t>(&v)) {
      d = *i;
    } else if (auto* l = std::get_if<int64_t>(&v)) {
      d = static_cast<double>(*l);
    } else {
      return std::nullopt;
    }
    if (d < min || d > max) return fmt::format("must be between {} and {}", min, max);
    return std::nullopt;
  };
}

Validator OneOf(std::initializer_list<const char*> allowed) {
  std::vector<std::string> options(allowed.begin(), allowed.end());
  return [options](const ConfigValue& v) -> std::optional<std::string> {
    auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) return std::nullopt;
    for (const auto& option : options) {
      if (*s == option) return std::nullopt;
    }
    return fmt::format("must be one of [{}]", fmt::join(options, ", "));
  };
}

Validator ListOf(std::initializer_list<const char*> allowed) {
  std::vector<std::string> options(allowed.begin(), allowed.end());
  return [options](const ConfigValue& v) -> std::optional<std::string> {
    auto* list = std::get_if<std::vector<std::string>>(&v);
    if (list == nullptr) return std::nullopt;
    if (list->empty()) return "must not be empty";
    for (const auto& item : *list) {
      bool ok = false;
      for (const auto& option : options) ok = ok || item == option;
      if (!ok) return fmt::format("'{}' is not one of [{}]", item, fmt::join(options, ", "));
    }
    return std::nullopt;
  };
}

Validator All(std::vector<Validator> validators) {
  return [validators](const ConfigValue& v) -> std::optional<std::string> {
    for (const auto& validator : validators) {
      if (auto why = validator(v)) return why;
    }
    return std::nullopt;
  };
}

}  // namespace sluice::config
