/* Everything bondd binds from DPDK. bindgen reads this file; with wrap_static_fns it also
 * emits an exported C wrapper for every `static inline` function reachable from here. */
#include <rte_config.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_eth_bond.h>
#include <rte_eth_bond_8023ad.h>
#include <rte_version.h>
#include <rte_log.h>

/* Macros and thread-local variables are not functions, so bindgen cannot wrap them. These
 * helpers are static inline on purpose: wrap_static_fns exports them like the rest. */
static inline int shim_errno(void) { return rte_errno; }
static inline unsigned shim_lcore_id(void) { return rte_lcore_id(); }
static inline void *shim_mtod(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, void *); }
static inline const char *shim_version(void) { return rte_version(); }
