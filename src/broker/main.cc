// sluice-broker: see broker/broker_main.h. Kept tiny so the process setup can
// evolve in its own files.
#include "broker/broker_main.h"

int main(int argc, char** argv) { return sluice::broker::BrokerMain(argc, argv); }
