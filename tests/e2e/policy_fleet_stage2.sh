# SPDX-License-Identifier: MIT
# The random differential test across the fleet (tests/e2e/policy_fleet.sh)
# on the stage-2 policy of the example city: examples/stuttgart/policy-stage2.yaml
# (with the inventory's hosts.csv) when there is one, else the stage-2 policy
# policy_fleet.sh writes from the example's own (objects, hosts with labels,
# an external network, site groups, except, limits, a time window, a gateway
# service). Same gateways, tuples and checks; the draw adds the addresses of
# the policy's named sets.
POLICY_FLEET_STAGE2=1 exec bash "$(dirname "$0")/policy_fleet.sh" "$@"
