/* pp-api: pcipassd's HTTP+JSON API under /v1, and /metrics.
 *
 * Every request is authenticated before it is routed (pp-auth), on its
 * head, before any of its body is read (pp_api_admit): on the Unix socket
 * by the peer's credentials, over TCP by "Authorization: Bearer TOKEN".
 * Bodies are JSON objects of at most PP_API_MAX_BODY bytes, sent with a
 * Content-Length; an unknown field, a wrong type or a missing required
 * field is 400. Errors are {"error": {"code": N, "message": "..."}} with
 * the HTTP status N: 400 bad input, 401 not authenticated, 403 not
 * allowed, 404 no such object or route, 405 method, 409 conflict, 413 body
 * too large, 500; and from pp-http, before a request reaches the API: 400
 * a malformed head, 408 a head too slow to come, 411 a body without a
 * Content-Length, 414 a request line too long, 431 a head too large, 503
 * too many connections from one peer, 505 an HTTP version other than 1.x.
 *
 * Routes (admin: only an admin may call it):
 *   GET    /v1/whoami                 {"id", "name", "admin"}
 *   POST   /v1/session                a browser's login (pp-api-session.c); GET, DELETE
 *   GET    /v1/events                 server-sent events (pp-events.h)
 *   GET    /ANY-OTHER-PATH            a file of the web UI, without credentials (web/)
 *   GET    /v1/hosts                  {"hosts": [HOST...], "next": ID|null}: a page, by id
 *                                     (LISTS); ?state=S[,S...] those in these states
 *   POST   /v1/hosts           admin  {"name", "ssh"?, "libvirt_uri"?, "probe_command"?,
 *                                     "prebound"?} -> 201 HOST. ssh is "USER@HOST[:PORT]"
 *                                     or "HOST[:PORT]"; probe_command an array of strings
 *                                     or one string split into words like a shell would;
 *                                     prebound (default false): the host binds its devices
 *                                     to vfio-pci itself (pcipass-vfio boot), domains get
 *                                     managed='no' and only devices on vfio-pci are offered
 *   GET    /v1/hosts/{id|name}        HOST with "pci_devices": [DEVICE...] and
 *                                     "allowances": [{"address", "by", "created"}...]
 *   PATCH  /v1/hosts/{id|name}  admin  {"prebound"?, "allow_needed"?, "disallow_needed"?}
 *                                     -> HOST. prebound: VMs started before keep their
 *                                     domains as they are. allow_needed: an address the
 *                                     host needs (HOST_NEEDS) that VMs may have all the
 *                                     same, recorded with the caller and the time;
 *                                     disallow_needed: its undo (404 when not allowed)
 *   POST   /v1/hosts/{id|name}/enable   admin  -> HOST
 *   POST   /v1/hosts/{id|name}/disable  admin  -> HOST
 *   POST   /v1/hosts/{id|name}/probe    admin  -> 202 HOST as it was; the probe starts now
 *   DELETE /v1/hosts/{id|name}      admin  -> 200 {"deleted": ID}; 409 while a VM holds
 *                                     one of its devices
 *   POST   /v1/hosts/{id|name}/report  admin or the host's report token  body: the text
 *                                     pcipass-probe prints (not JSON; at most
 *                                     PP_API_MAX_REPORT bytes, else 413) -> {"host",
 *                                     "host_id", "changed", "devices", "added", "removed",
 *                                     "gone"}. The same report as the last one pushed costs
 *                                     a hash comparison ("changed": false, nothing written);
 *                                     one that does not parse is 400 with its line, nothing
 *                                     changed
 *   POST   /v1/hosts/{id|name}/token   admin  -> 201 {"host", "host_id", "report_path",
 *                                     "created", "token"}: the host's report token, shown
 *                                     this once, replacing any it had; the host pushes its
 *                                     reports from now on (not probed)
 *   DELETE /v1/hosts/{id|name}/token   admin  -> {"host", "host_id", "revoked": true}; 404
 *                                     without one; the host is probed again
 *
 * A host's report token ("pph_...") may only POST its own host's report:
 * any other request with it is 403; an unknown one is 401.
 *   GET    /v1/users           admin  {"users": [USER...]}
 *   POST   /v1/users           admin  {"name", "admin"?} -> 201 USER
 *   GET    /v1/users/{name}           USER with "quota": QUOTA (the caller itself; any for
 *                                     the admin; another user is 404)
 *   PATCH  /v1/users/{name}/quota  admin  {"vms"?, "cpu"?, "memory_mib"?, "pci"?: N or null
 *                                     (no limit), "pci_classes"?: {"0302": N or null}}
 *                                     -> USER with "quota"; a field left out keeps its limit
 *   DELETE /v1/users/{name}    admin  -> {"deleted": ID, "tokens": N, "done_vms": N}; 409
 *                                     while it owns a VM that is not done, or is the caller
 *   GET    /v1/tokens                 {"tokens": [TOKEN...]} (the caller's; all for admin)
 *   POST   /v1/tokens                 {"name"?, "user"?, "expires_in"?: seconds (60 to
 *                                     365 days) or null} -> 201 TOKEN with "token": the
 *                                     secret, shown this once. "user" (another user's
 *                                     name) is for the admin.
 *   DELETE /v1/tokens/{id}            -> {"deleted": ID}: the caller's (any for the admin;
 *                                     another's is 404); refused from the next request
 *   GET    /v1/vms                    {"vms": [VM_ROW...], "next": ID|null}: a page of the
 *                                     caller's VMs (all for the admin), by id (LISTS);
 *                                     ?state=S[,S...] those in these states, else those
 *                                     not done (?all=1: every state); ?host=ID|NAME those
 *                                     on a host; ?owner=NAME a user's (a user naming
 *                                     another is 403)
 *   POST   /v1/vms                    {"template": "TEXT"} -> 201 VM (pending; the owner is
 *                                     the caller). A bad template is 400 with its line and
 *                                     column; so is, from a user who is not an admin, one
 *                                     that names a file of the host (DISK SOURCE, OS KERNEL
 *                                     or INITRD), and one naming an image that cannot be
 *                                     used (missing, a link, not a regular file...);
 *                                     one past a quota of the caller 409 naming it
 *   POST   /v1/vms/place              {"template": "TEXT"} -> 200 PLACE: a dry run, nothing
 *                                     created; the template checked as for POST /v1/vms
 *   GET    /v1/vms/{id}               VM (the owner or the admin; others get 404)
 *   POST   /v1/vms/{id}/terminate     -> 202 VM: destroyed, devices released; from every
 *                                     state (a done VM stays done)
 *   POST   /v1/vms/{id}/poweroff      -> 202 VM: the domain stops, devices stay reserved
 *   POST   /v1/vms/{id}/resume        -> 202 VM: a poweroff VM (or a failed one that kept its
 *                                     devices) starts again on them; 409 naming a device
 *                                     that is gone
 *   POST   /v1/vms/{id}/retry         -> 202 VM: a failed or poweroff VM releases what it
 *                                     kept and is pending again, its deploy tries counted
 *                                     anew; 409 when its owner's quotas refuse it
 *   GET    /v1/images                 {"images": [IMAGE...], "directories": ["/var/lib/..."],
 *                                     "truncated": false}: what templates can name now
 *                                     (pp-images.h)
 *   GET    /metrics                   Prometheus text format
 *
 * HOST: {"id", "name", "state": "init|monitored|error|disabled", "enabled",
 *   "error": null|"..." (the last probe's failure), "libvirt_error": null|"..." (the
 *   last libvirt check's failure; either makes the state error), "ssh": null|{"user": null|"..",
 * "host", "port": null|N}, "libvirt_uri": null|"..", "probe_command": null|["..."], "prebound":
 * false, "facts": {"hostname", "cpu_count", "memory_kib", "kernel_version"} (each null until
 * probed), "pci_total", "pci_free", "last_monitored": null|unix seconds, "created": unix seconds,
 * "reports": "probed"|"pushed" (it has a report token), "last_report": null|unix seconds (a push
 * host's last report since pcipassd started, changed or not; null for a probed host)}
 * DEVICE: {"address": "0000:3b:00.1", "short_address": "3b:00.1",
 *   "type": "8086:1521:0200", "vendor": "8086", "device": "1521", "class": "0200",
 *   "vendor_name", "device_name", "class_name", "numa_node": null|N,
 *   "iommu_group": null|N, "driver": null|"..", "sriov": "pf|vf|no",
 *   "physfn": null|"..", "vm": null|VM_ID (null too for another user's VM, to a user),
 *   "taken": false (a VM holds it), "gone": false,
 *   "host_needs": null|"why the host needs it" (never offered, nor its IOMMU group),
 *   "allowed": false (an administrator allowed it all the same),
 *   "set_aside": null|"why a deploy could not use it" (not offered until a probe
 *   reports it again), "attributes": {the probe's record, keys in order}}
 * VM: {"id", "name", "owner", "state": "pending|deploying|running|poweroff|unknown|
 *   terminating|done|failed", "reason": null|".." (why its state last changed), "host": null|{"id",
 * "name"}, "cpu": 0.5, "vcpu": N, "memory_mib": N, "pci_requests": ["VENDOR=10de,DEVICE=1db4",
 * ...], "devices": [{"address", "short_address", "type", "name", "numa_node", "iommu_group",
 * "request": N|null (null: a companion of its IOMMU group)}...], "explanation": null|[{"host_id",
 * "host", "reason", "hosts_count", "summary", "hosts"}...] (pending only, once a pass tried it: the
 * scheduler's, per reason, made when asked; never stored), "domain": "pcipass-ID", "domain_xml":
 * null|"<domain ...>" (while it has a host), "template": "TEXT", "created", "updated", "tries": N
 * (deploys that failed since it was created or retried), and in GET /v1/vms/{id} only "history":
 * [{"at", "from": null|STATE, "to": STATE, "reason", "host"}...] (the newest 100 changes, oldest
 * first)}
 * VM_ROW: a VM as a list shows it, light: {"id", "name", "owner", "state", "reason": null|".."
 *   (its first line, at most 160 characters), "host", "cpu", "memory_mib", "devices_held": N,
 *   "summary": null|".." (pending: the scheduler's first reason in a line, "HOST: REASON" or "N
 *   hosts: REASON (HOST, ...)", and "; and N more reasons" when there are), "created",
 *   "updated", "tries"}; no template, no domain, no explanation: GET /v1/vms/{id}
 *   has them.
 * LISTS: GET /v1/vms and GET /v1/hosts answer a page: "limit" rows (1 to 1000; 100 when not
 *   given) with an id above "after" (0 or left out: from the first), ascending, and "next":
 *   the "after" of the next page, null on the last. A VM or host made between two pages shows
 *   up on a later one (ids only grow). A query parameter the route does not take, given
 *   twice or without a value, or with a bad value (limit=0, limit=5000, after=-1,
 *   state=bogus, an unknown host or owner) is 400, its message naming the parameter, the
 *   value and what is accepted.
 * PLACE: {"fits": true, "host": {"id", "name"}, "numa_node": null|N,
 *   "devices": [{"address", "type", "name", "request": N|null}...]}
 *   or {"fits": false, "explanation": [{"host_id", "host", "reason"}...]}
 * IMAGE: {"name", "kind": "qcow2|raw" (from the file's name), "directory", "file", "path",
 *   "size": bytes of the file, "virtual_size": bytes of the disk (a qcow2's own)}
 * USER: {"id", "name", "admin", "created"}
 * QUOTA: {"vms", "cpu", "memory_mib", "pci": {"used": N, "limit": null|N}, "pci_classes":
 *   [{"class": "0302", "used", "limit"}...]}: what the user's VMs that are not done hold
 * TOKEN: {"id", "user", "name": null|"..", "created", "last_used": null|N, "expires":
 *   null|N, "expired": false}
 *
 * What a user who is not an admin sees (the Sight of pp-api.c): a HOST without "ssh",
 * "libvirt_uri" and "probe_command", its "error" and "libvirt_error" a fixed sentence;
 * a DEVICE's "vm" only for its own VMs, its "set_aside" a fixed sentence; in a VM's
 * reason and history each host's libvirt URI named, not shown; in explanations "held
 * by another VM" for a VM not its own.
 */
#pragma once

#include <glib.h>

#include "pp-events.h"
#include "pp-http.h"
#include "pp-images.h"
#include "pp-leader.h"
#include "pp-monitor.h"
#include "pp-network.h"
#include "pp-scheduler.h"
#include "pp-session.h"
#include "pp-store.h"

G_BEGIN_DECLS

/* The largest request body accepted; more is 413. */
#define PP_API_MAX_BODY (1024 * 1024)
/* The largest pushed report (POST /v1/hosts/ID/report): the probe's own
 * limit; more is 413. */
#define PP_API_MAX_REPORT PP_PROBE_REPORT_MAX_SIZE

#define PP_API_ERROR (pp_api_error_quark())
GQuark pp_api_error_quark(void);

typedef enum {
  PP_API_ERROR_BAD_REQUEST, /* 400 */
  PP_API_ERROR_FORBIDDEN,   /* 403 */
  PP_API_ERROR_NOT_FOUND,   /* 404 */
  PP_API_ERROR_METHOD,      /* 405 */
  PP_API_ERROR_FAILED,      /* 500: an answer that could not be built */
  PP_API_ERROR_UNAVAILABLE, /* 503: full (sessions) */
} PpApiError;

/* What the handlers use; owned by pcipassd's PpDaemon. */
typedef struct {
  PpStore *store;
  PpMonitor *monitor; /* nullable: no probing (tests of the API alone) */
  PpScheduler *scheduler;
  PpHttpServer *http;     /* nullable: no request counts in /metrics */
  const PpImages *images; /* nullable: no image folders */
  /* Nullable: 02:00. The first two bytes of the MACs of networks' ranges
   * that give none (pcipassd.conf's mac_prefix). */
  const PpMacPrefix *mac_prefix;
  gint64 started;       /* unix seconds */
  PpSessions *sessions; /* nullable: no browser sessions (POST /v1/session is 404) */
  PpEvents *events;     /* nullable: no GET /v1/events (404) */
  /* Nullable: this pcipassd leads. A standby (not leading) has no monitor
   * and no scheduler: what needs them is 503, naming the leader. */
  PpLeader *leader;
} PpApiContext;

/* The PpHttpAdmit of pcipassd, on a request's head: authenticates (a
 * refusal, 401, comes before any of the body is read), routes (404, 405),
 * checks the caller may (403), and gives the route's body limit
 * (PP_API_MAX_BODY, or 0 for a route without a body: a Content-Length
 * above 0 is 400). @user_data is a PpApiContext. */
gboolean pp_api_admit(PpHttpRequest *req, gsize *ret_max_body, guint *ret_status,
                      const char **ret_content_type, GBytes **ret_body, gpointer user_data);

/* The PpHttpHandler of pcipassd: @user_data is a PpApiContext. It uses
 * what pp_api_admit() found, or judges the request itself when it did not
 * run. */
void pp_api_handle(const PpHttpRequest *req, guint *ret_status, const char **ret_content_type,
                   GBytes **ret_body, gpointer user_data);

G_END_DECLS
