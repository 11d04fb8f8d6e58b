#include "api/handlers/cluster_state.h"

namespace sluice::api {

ClusterState CurrentClusterState(const BrokerServices& services) {
  if (services.cluster_view != nullptr) return services.cluster_view->Current();
  ClusterState state;
  state.brokers.push_back(BrokerEndpoint{services.broker_id, services.advertised.host,
                                         services.advertised.port, services.config.rack()});
  state.controller_id = services.broker_id;
  return state;
}

}  // namespace sluice::api
