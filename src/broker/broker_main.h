// The sluice-broker process: command line, configuration, logging, data
// directories, network server, signals. Returns the process exit code
// (see command_line.h).
#pragma once

namespace sluice::broker {

int BrokerMain(int argc, const char* const* argv);

}  // namespace sluice::broker
