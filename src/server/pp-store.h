/* pp-store: pcipassd's state: hosts, their PCI devices, users and tokens.
 *
 * A narrow interface over SQLite (WAL, foreign keys on, a versioned schema
 * migrated at open), so that a PostgreSQL backend can follow behind the
 * same functions. Used only from pcipassd's main thread. Every function
 * that changes state does so in one transaction: all or nothing.
 *
 * The schema itself keeps a device with one VM at most: pci_device has one
 * vm_id column (a foreign key to vms), UNIQUE(host_id, address) keeps one
 * row per device, UNIQUE(vm_id, vm_slot) one device per place in a VM, and
 * a trigger refuses to move a held device from one VM to another without
 * freeing it first. Version 2 adds the VMs: their template, host, CPU and
 * memory, with CHECKs that a VM holds a host exactly in the states that
 * hold resources (deploying, running, poweroff, terminating). Version 5
 * adds users' quotas, each VM's PCI requests as quotas count them, and
 * triggers that refuse a new VM or PCI request past its owner's quotas;
 * and tokens' expiry.
 */
#pragma once

#include <glib.h>

#include "pp-probe-report.h"
#include "pp-vm-template.h"

G_BEGIN_DECLS

#define PP_STORE_ERROR (pp_store_error_quark())
GQuark pp_store_error_quark(void);

typedef enum {
  PP_STORE_ERROR_NOT_FOUND,  /* no such host, user or token */
  PP_STORE_ERROR_EXPIRED,    /* a token whose expiry has passed */
  PP_STORE_ERROR_CONFLICT,   /* a name taken; a host whose devices VMs hold */
  PP_STORE_ERROR_INVALID,    /* a value the schema refuses */
  PP_STORE_ERROR_BUSY,       /* the database is locked by another process */
  PP_STORE_ERROR_FAILED,     /* SQLite failed: I/O, a corrupt file, a newer schema */
  PP_STORE_ERROR_NO_ADDRESS, /* a network a VM's NIC names has no free address */
} PpStoreError;

typedef struct _PpStore PpStore;

/**
 * pp_store_open:
 * @path: the SQLite file, created when missing (its folder must exist), or
 *   a PostgreSQL database's postgresql:// or postgres:// URI (libpq's)
 *
 * Opens the store: on SQLite WAL mode, foreign keys on, a busy timeout; on
 * PostgreSQL the session's settings (pp-db-pg); and the schema migrated to
 * the newest version in one transaction (an empty PostgreSQL database is
 * given the whole schema). A store whose schema is newer than this program
 * knows is refused (PP_STORE_ERROR_FAILED). Messages name @path with a
 * URI's password hidden.
 *
 * Returns: (transfer full): the store, or %NULL with an error naming @path.
 */
PpStore *pp_store_open(const char *path, GError **error);
void pp_store_free(PpStore *store);

/* The store's identity: 32 lower-case hex digits, made once with the
 * store (schema version 5). Returns: (transfer none). */
const char *pp_store_get_id(PpStore *store);

/* The schema version of the open store (the newest this program knows). */
int pp_store_get_schema_version(PpStore *store);

typedef enum {
  PP_HOST_STATE_INIT,      /* added or enabled, not probed yet */
  PP_HOST_STATE_MONITORED, /* the last probe succeeded */
  PP_HOST_STATE_ERROR,     /* the last probe or libvirt check failed: error, libvirt_error */
  PP_HOST_STATE_DISABLED,  /* not probed, not placed on */
  _PP_HOST_STATE_MAX
} PpHostState;

/* "init", "monitored", "error", "disabled". */
const char *pp_host_state_to_string(PpHostState state);

/* What pcipass host create gives. */
typedef struct {
  const char *name;                 /* 1..64 of [A-Za-z0-9._-], not starting with '-' */
  const char *ssh_user;             /* nullable: probe over ssh as this user */
  const char *ssh_host;             /* nullable: no ssh, the probe runs locally */
  int ssh_port;                     /* 0: ssh's default */
  const char *libvirt_uri;          /* nullable */
  const char *const *probe_command; /* nullable: argv of the probe */
  gboolean prebound;                /* devices are bound to vfio-pci ahead of time: managed='no' */
  const char *context_pool;         /* nullable: "default"; the libvirt storage pool of the
                                     * VMs' context disks (issue 13) */
} PpHostSpec;

typedef struct {
  gint64 id;
  char *name;
  char *ssh_user;      /* NULL: none */
  char *ssh_host;      /* NULL: local */
  int ssh_port;        /* 0: default */
  char *libvirt_uri;   /* NULL: none */
  GStrv probe_command; /* NULL: the default probe */
  PpHostState state;
  char *error;         /* the last probe's failure, NULL unless state is error */
  char *libvirt_error; /* the last libvirt check's failure, NULL unless state is error */
  /* The host facts of the last successful probe; NULL / -1 before one. */
  char *reported_hostname;
  gint64 cpu_count;
  gint64 memory_kib;
  char *kernel_version;
  gint64 last_monitored; /* unix seconds of the last probe, success or not; 0: never */
  gint64 created;        /* unix seconds */
  gboolean prebound;     /* see PpHostSpec */
  guint pci_total;       /* devices in the inventory, gone ones included */
  guint pci_free;        /* not held by a VM and not gone */
  char *context_pool;    /* the storage pool of the VMs' context disks; never NULL */
} PpHost;

void pp_host_free(PpHost *host);

/* A device of a host's inventory: the probe's record of it (pci, its
 * address typed, read once from the store) and what the store adds. */
typedef struct {
  PpProbeDevice pci;
  gint64 id;
  gint64 host_id;
  gint64 vm_id;     /* 0: free */
  gint vm_slot;     /* its place in the VM's order (pp_store_vm_allocate); -1 when free */
  gboolean gone;    /* the last probe did not report it, and a VM holds it */
  gboolean allowed; /* an administrator allowed VMs this needed address (host_allowance) */
  char *set_aside;  /* why a deploy could not bind it here; NULL: not set aside */
} PpStoreDevice;

void pp_store_device_free(PpStoreDevice *dev);

/**
 * pp_store_host_create:
 * Adds a host in state init, enabled. Returns: (transfer full): it, or %NULL
 * with PP_STORE_ERROR_CONFLICT when the name is taken ("a host named 'x'
 * exists (id 3)"), PP_STORE_ERROR_INVALID for a bad name.
 */
PpHost *pp_store_host_create(PpStore *store, const PpHostSpec *spec, gint64 now, GError **error);

/* Returns: (transfer full) (element-type PpHost): every host, by id. */
GPtrArray *pp_store_host_list(PpStore *store, GError **error);

/* Returns: (transfer full): the host, or %NULL with NOT_FOUND. */
PpHost *pp_store_host_get(PpStore *store, gint64 id, GError **error);

/* @key is a host id (decimal) or a name; an id wins when both could match.
 * Returns: (transfer full): the host, or %NULL with NOT_FOUND ("no host
 * 'x'"). */
PpHost *pp_store_host_find(PpStore *store, const char *key, GError **error);

/* Disabling sets state disabled; enabling a disabled host sets state init
 * (probed at the next pass). Idempotent. NOT_FOUND for an unknown id. */
gboolean pp_store_host_set_enabled(PpStore *store, gint64 id, gboolean enabled, GError **error);

/* Sets whether the host is prebound (PpHostSpec). Domains already
 * started keep the XML they were started with. NOT_FOUND for an unknown
 * id. */
gboolean pp_store_host_set_prebound(PpStore *store, gint64 id, gboolean prebound, GError **error);

/* What pp_store_host_update() changes: a set_* flag says that its fields
 * change; the fields of a flag left FALSE keep the host's values. */
typedef struct {
  gboolean set_ssh;
  const char *ssh_user; /* nullable */
  const char *ssh_host; /* NULL: no ssh, the probe runs on pcipassd's machine */
  int ssh_port;         /* 0: ssh's default */
  gboolean set_libvirt_uri;
  const char *libvirt_uri; /* NULL: the default (pp_scheduler_host_uri()) */
  gboolean set_probe_command;
  const char *const *probe_command; /* NULL: the default probe */
  gboolean set_prebound;
  gboolean prebound;
  const char *context_pool; /* NULL: unchanged */
} PpHostUpdate;

/**
 * pp_store_host_update:
 *
 * Changes how a host is probed and reached, in one transaction: the host
 * with @update applied is checked by the rules of pp_store_host_create()
 * (INVALID, changing nothing) and written. Its state, error, facts and
 * devices stay; the monitor and the deployer read the new values at their
 * next probe and libvirt call.
 *
 * Returns: (transfer full): the host as it is now, or %NULL with NOT_FOUND
 *   ("no host with id 42") or INVALID.
 */
PpHost *pp_store_host_update(PpStore *store, gint64 id, const PpHostUpdate *update, GError **error);

/* Deletes the host and its devices. CONFLICT, changing nothing, while a VM
 * holds one of its devices ("host 'x' has devices held by VMs 4, 7") or
 * is on it ("host 'x' has VMs 4, 7 on it; terminate them first"). */
gboolean pp_store_host_delete(PpStore *store, gint64 id, GError **error);

/* Returns: (transfer full) (element-type PpStoreDevice): the host's
 * devices, by address. NOT_FOUND for an unknown host. */
GPtrArray *pp_store_host_list_devices(PpStore *store, gint64 host_id, GError **error);

typedef struct {
  guint added;   /* new devices */
  guint updated; /* reported again (attributes refreshed) */
  guint removed; /* gone while free: deleted */
  guint flagged; /* gone while held: kept, gone set */
} PpReconcileStats;

/**
 * pp_store_host_reconcile:
 * @report: what the probe said, already parsed and validated
 * @now: unix seconds
 *
 * In one transaction: devices of @report new to the host are added; those
 * known are refreshed (every attribute, and gone cleared); those the
 * report lacks are deleted when free, and kept with gone set when a VM
 * holds them. The host's facts are replaced by the report's, its state
 * becomes monitored, its error is cleared, last_monitored is @now. A host
 * disabled meanwhile keeps state disabled (its inventory is still
 * refreshed). NOT_FOUND when the host was deleted meanwhile.
 */
gboolean pp_store_host_reconcile(PpStore *store, gint64 host_id, const PpProbeReport *report,
                                 gint64 now, PpReconcileStats *ret_stats, GError **error);

/* What pp_store_host_ingest() did. */
typedef struct {
  gboolean changed;       /* FALSE: the report was the last one again; nothing written */
  guint devices;          /* in the report (0 when unchanged: not parsed) */
  PpReconcileStats stats; /* as pp_store_host_reconcile()'s */
} PpIngestResult;

/**
 * pp_store_host_ingest:
 * @text: a report as pcipass-probe prints it, pushed by the host
 * @len: its length in bytes
 * @now: unix seconds
 *
 * The SHA-256 of @text is compared with the host's last report's (pushed,
 * or probed: pp_store_host_ingest_probe()):
 * the same report again, while the host's state came from a report (not
 * init, no probe error) and no device of it is set aside, costs that one
 * read, and nothing is parsed or written (ret_result->changed FALSE).
 * Else the report is parsed (PP_PROBE_REPORT_ERROR, nothing changed,
 * when it does not) and reconciled as pp_store_host_reconcile() does, its
 * hash kept, in one transaction. NOT_FOUND for an unknown host.
 */
gboolean pp_store_host_ingest(PpStore *store, gint64 host_id, const char *text, gsize len,
                              gint64 now, PpIngestResult *ret_result, GError **error);

/* The output of a probe pcipassd ran (pull mode), taken in as
 * pp_store_host_ingest() takes a pushed report; an unchanged one still
 * sets the host's last_monitored to @now (one small write: a pulled host
 * is probed once a monitor interval, and its lists show when). */
gboolean pp_store_host_ingest_probe(PpStore *store, gint64 host_id, const char *text, gsize len,
                                    gint64 now, PpIngestResult *ret_result, GError **error);

/* A host's report token (schema version 8): lets pcipass-probe --push on
 * the host POST its report, nothing else. One per host at most. */
typedef struct {
  gint64 host_id;
  char *host_name;
  gint64 created;
  gint64 last_used; /* 0: never; written once an hour at most (below) */
} PpHostToken;

void pp_host_token_free(PpHostToken *token);

/* Stores the host's report token by the SHA-256 of its secret (@hash, 64
 * lower-case hex digits), replacing any it had. NOT_FOUND for an unknown
 * host. */
gboolean pp_store_host_token_set(PpStore *store, gint64 host_id, const char *hash, gint64 now,
                                 GError **error);
/* Revokes it: refused from the next request on. NOT_FOUND for an unknown
 * host or a host without one ("host 'x' has no report token"). */
gboolean pp_store_host_token_delete(PpStore *store, gint64 host_id, GError **error);
/* How often a host token's last_used is written at most, in seconds. An
 * hour, not less: hosts push every minute or so, and a write per push would
 * cost every unchanged report a write transaction (the monitor keeps the
 * time of the last report itself, in memory, for staleness). */
#define PP_STORE_HOST_TOKEN_TOUCH_S 3600

/* The host a token hash belongs to; NOT_FOUND for an unknown hash. Its
 * last_used becomes @now at its first use, then when
 * PP_STORE_HOST_TOKEN_TOUCH_S have passed.
 * Returns: (transfer full). */
PpHostToken *pp_store_host_token_authenticate(PpStore *store, const char *hash, gint64 now,
                                              GError **error);
/* Returns: (transfer full) (element-type PpHostToken): every host with a
 * report token (those in push mode), by host id. */
GPtrArray *pp_store_host_token_list(PpStore *store, GError **error);

/* The probe failed: state error with @message, last_monitored @now; the
 * inventory stays as it was. A disabled host stays disabled. */
gboolean pp_store_host_set_error(PpStore *store, gint64 host_id, const char *message, gint64 now,
                                 GError **error);

/* The monitor's libvirt check: @message NULL when the host's libvirt
 * answered (the host leaves state error unless its probe failed: then
 * monitored, or init before its first probe), else why not (state
 * error). A disabled host stays disabled. NOT_FOUND for an unknown id. */
gboolean pp_store_host_set_libvirt_error(PpStore *store, gint64 host_id, const char *message,
                                         GError **error);

/* A needed device an administrator gave to VMs on purpose. */
typedef struct {
  char *address; /* 0000:00:1f.0 */
  char *by;      /* who allowed it */
  gint64 created;
} PpHostAllowance;

void pp_host_allowance_free(PpHostAllowance *allowance);

/* Lets placement offer the device at @address (0000:00:1f.0) of the host
 * although the host needs it, recording @by and @now. Allowing an address
 * allowed already keeps the first record. NOT_FOUND for an unknown host,
 * INVALID for an address that is not one. */
gboolean pp_store_host_allow(PpStore *store, gint64 host_id, const char *address, const char *by,
                             gint64 now, GError **error);
/* The undo: NOT_FOUND when the address is not allowed ("host 'x' has no
 * allowance for 0000:00:1f.0"). VMs holding the device keep it. */
gboolean pp_store_host_disallow(PpStore *store, gint64 host_id, const char *address,
                                GError **error);
/* Returns: (transfer full) (element-type PpHostAllowance): by address. */
GPtrArray *pp_store_host_list_allowances(PpStore *store, gint64 host_id, GError **error);

/* A deploy could not bind the device @address of the host: it is not
 * offered, for @reason, until a probe reports it again. NOT_FOUND when
 * the host has no such device. */
gboolean pp_store_device_set_aside(PpStore *store, gint64 host_id, const char *address,
                                   const char *reason, GError **error);

typedef struct {
  gint64 id;
  char *name;
  gboolean admin;
  gint64 created;
  /* Set by pp_store_token_authenticate(): when the token the user came
   * with expires (0: never, or not by a token). */
  gint64 token_expires;
} PpUser;

void pp_user_free(PpUser *user);

/* Returns: (transfer full): the new user, or %NULL with CONFLICT when the
 * name is taken, INVALID for a bad name (same rule as host names). */
PpUser *pp_store_user_create(PpStore *store, const char *name, gboolean admin, gint64 now,
                             GError **error);
/* Returns: (transfer full): the user, or %NULL with NOT_FOUND. */
PpUser *pp_store_user_find(PpStore *store, const char *name, GError **error);
PpUser *pp_store_user_get(PpStore *store, gint64 id, GError **error);
/* Returns: (transfer full) (element-type PpUser): by id. */
GPtrArray *pp_store_user_list(PpStore *store, GError **error);

/**
 * pp_store_user_delete:
 * @ret_vms: (optional): how many done VMs went with the user
 * @ret_tokens: (optional): how many tokens went with the user
 *
 * In one transaction: the user, its tokens, its quotas and its done VMs
 * (their history and requests with them) are deleted; ids are never
 * given again. CONFLICT, changing nothing, while the user owns a VM that
 * is not done ("user 'alice' owns VMs 4, 7 that are not done; terminate
 * them first"). NOT_FOUND for an unknown id.
 */
gboolean pp_store_user_delete(PpStore *store, gint64 user_id, guint *ret_vms, guint *ret_tokens,
                              GError **error);

/* Quotas (schema version 6), as OpenNebula's: what a user's VMs that are
 * not done (pending, failed and powered-off ones included) may have in
 * all. Every user, the admin included, has no limit until one is set.
 * PCI counts the VMs' PCI requests (not the companions their IOMMU groups
 * bring); a class limit counts the requests whose CLASS is that class, and
 * a user with a class limit may make no request without a CLASS. */
#define PP_QUOTA_NONE (-1) /* a limit: none */
/* The largest limits that can be set. */
#define PP_QUOTA_MAX_VMS G_GINT64_CONSTANT(1000000)
#define PP_QUOTA_MAX_CPU G_GINT64_CONSTANT(100000000)        /* hundredths: 1,000,000 CPUs */
#define PP_QUOTA_MAX_MEMORY_KIB (G_GINT64_CONSTANT(1) << 40) /* 1 PiB */
#define PP_QUOTA_MAX_PCI G_GINT64_CONSTANT(1000000)
#define PP_QUOTA_MAX_CLASSES 64 /* class limits of one user */
#define PP_QUOTA_MAX_LEASES G_GINT64_CONSTANT(1000000)

typedef struct {
  gint64 limit; /* PP_QUOTA_NONE, or 0..PP_QUOTA_MAX_* */
  gint64 used;
} PpQuotaItem;

/* The PCI requests of one class: class and subclass, as a request's CLASS. */
typedef struct {
  guint16 class_code; /* 0x0302 */
  gint64 limit;       /* PP_QUOTA_NONE: none (in an update: the limit is removed) */
  gint64 used;        /* ignored in an update */
} PpQuotaClass;

typedef struct {
  PpQuotaItem vms;
  PpQuotaItem cpu; /* hundredths of a CPU */
  PpQuotaItem memory_kib;
  PpQuotaItem pci;
  PpQuotaItem leases; /* the NICs on networks (OpenNebula's NETWORK quota, for all networks) */
  GArray *classes;    /* PpQuotaClass by class: every class limited or used */
} PpQuota;

void pp_quota_free(PpQuota *quota);

/* Returns: (transfer full): the user's limits and use, or %NULL with
 * NOT_FOUND. */
PpQuota *pp_store_user_get_quota(PpStore *store, gint64 user_id, GError **error);

/* What pp_store_user_set_quota() changes: a set_* flag says that its limit
 * changes (PP_QUOTA_NONE: removed); each class named gets its limit. */
typedef struct {
  gboolean set_vms;
  gint64 vms;
  gboolean set_cpu;
  gint64 cpu; /* hundredths */
  gboolean set_memory;
  gint64 memory_kib;
  gboolean set_pci;
  gint64 pci;
  gboolean set_leases;
  gint64 leases;
  const PpQuotaClass *classes;
  guint n_classes;
} PpQuotaUpdate;

/**
 * pp_store_user_set_quota:
 *
 * Changes the user's limits in one transaction. A limit below what the
 * user has is allowed: nothing the user has is stopped, new VMs are
 * refused. INVALID, changing nothing, for a limit out of 0..PP_QUOTA_MAX_*
 * or more than PP_QUOTA_MAX_CLASSES class limits; NOT_FOUND for an
 * unknown user.
 *
 * Returns: (transfer full): the quota as it is now, or %NULL.
 */
PpQuota *pp_store_user_set_quota(PpStore *store, gint64 user_id, const PpQuotaUpdate *update,
                                 GError **error);

typedef struct {
  gint64 id;
  gint64 user_id;
  char *user_name;
  char *name; /* the label given at creation, or NULL */
  gint64 created;
  gint64 last_used; /* 0: never */
  gint64 expires;   /* unix seconds from which it is refused; 0: never */
} PpToken;

void pp_token_free(PpToken *token);

/* Stores a token by the SHA-256 of its secret (@hash, 64 lower-case hex
 * digits); the secret itself is never stored. @expires: unix seconds from
 * which it is refused, after @now (else INVALID); 0: never. Returns:
 * (transfer full). */
PpToken *pp_store_token_create(PpStore *store, gint64 user_id, const char *name, const char *hash,
                               gint64 now, gint64 expires, GError **error);
/* The user a token hash belongs to, its last_used set to @now; NOT_FOUND for
 * an unknown hash, EXPIRED for a token whose expiry is @now or before
 * ("token 7 of user 'alice' expired at 2027-01-05 10:00:00 UTC"; its
 * last_used unchanged). Returns: (transfer full). */
PpUser *pp_store_token_authenticate(PpStore *store, const char *hash, gint64 now, GError **error);
/* @user_id 0: every token. Returns: (transfer full) (element-type PpToken). */
GPtrArray *pp_store_token_list(PpStore *store, gint64 user_id, GError **error);
/* Deletes token @id; refused at once from then on. @user_id non-zero: only
 * that user's token: another's is NOT_FOUND in the words of a token that
 * does not exist ("no token 7"). */
gboolean pp_store_token_delete(PpStore *store, gint64 id, gint64 user_id, GError **error);

/* VMs (schema version 2). */

typedef enum {
  PP_VM_STATE_PENDING,   /* waiting for a host */
  PP_VM_STATE_DEPLOYING, /* host and devices allocated; the domain is being started */
  PP_VM_STATE_RUNNING,
  PP_VM_STATE_POWEROFF,    /* the domain is off; host, CPU, memory and devices stay reserved */
  PP_VM_STATE_UNKNOWN,     /* its host's libvirt does not answer; everything stays reserved */
  PP_VM_STATE_TERMINATING, /* the domain is being destroyed */
  PP_VM_STATE_DONE,        /* terminated; holds nothing */
  PP_VM_STATE_FAILED,      /* it could not run (reason): holds nothing after a deploy that failed,
                            * keeps host and devices after a crash (until terminate) */
  _PP_VM_STATE_MAX
} PpVmState;

/* "pending", "deploying", "running", "poweroff", "unknown", "terminating", "done",
 * "failed". */
const char *pp_vm_state_to_string(PpVmState state);

typedef struct {
  gint64 id;
  char *name; /* the template's NAME, or "vm-ID" */
  gint64 owner_id;
  char *owner_name;
  PpVmState state;
  char *reason; /* why its state last changed, or the last error of an action */
  char *template_text;
  gint64 host_id;  /* 0: none (pending, done, or failed and released) */
  char *host_name; /* NULL when host_id is 0 */
  gint64 cpu;      /* hundredths of a CPU */
  gint64 memory_kib;
  gint64 created; /* unix seconds */
  gint64 updated;
  guint tries; /* deploys that failed since a user last made it pending */
} PpVm;

void pp_vm_free(PpVm *vm);

/**
 * pp_store_vm_create:
 * @pci_classes: (array length=n_pci) (nullable): the CLASS of each of the
 *   template's PCI requests, in order (0x0302), or -1 for one that names
 *   none
 *
 * In one transaction: the owner's quotas are checked (its VMs that are not
 * done, and this one) and the VM is stored, pending, with its PCI
 * requests. A quota it would pass is CONFLICT naming it ("user 'alice'
 * would pass a quota: VMs: 5 of 5 used, this VM asks for 1"), and nothing
 * is stored.
 *
 * Returns: (transfer full): the new VM, owned by @owner_id; its name is
 *   @name or "vm-ID".
 */
PpVm *pp_store_vm_create(PpStore *store, gint64 owner_id, const char *name,
                         const char *template_text, gint64 cpu, gint64 memory_kib,
                         const gint *pci_classes, guint n_pci, gint64 now, GError **error);
/* Returns: (transfer full): the VM, or %NULL with NOT_FOUND ("no VM 7"). */
PpVm *pp_store_vm_get(PpStore *store, gint64 id, GError **error);

/**
 * pp_store_vm_create_spec:
 * @template_text: the template @spec was parsed from, kept for `vm show`
 * @spec: the template, parsed (pp_vm_template_parse()) and checked
 *
 * pp_store_vm_create() for a parsed template: what placement and the
 * domain need is stored typed (its PCI requests, CPU, memory, HOST, and
 * the domain's part: pp-vm-spec-json.h), so that nothing reads the
 * template again (pp_store_vm_get_spec()). Images stay names: they are
 * found at each deploy.
 *
 * Returns: (transfer full): the new VM; its name is the template's NAME
 *   or "vm-ID".
 */
PpVm *pp_store_vm_create_spec(PpStore *store, gint64 owner_id, const char *template_text,
                              const PpVmSpec *spec, gint64 now, GError **error);

/**
 * pp_store_vm_get_spec:
 *
 * The VM's spec as its create stored it, read from typed columns: CPU,
 * memory, HOST (host_id, host_name), its PCI requests in order (each with
 * its text, "VENDOR=10de,CLASS=0302"), and the domain's part (vcpu,
 * machine, disks, NICs, OS, console; images as names, unresolved). Its
 * tmpl is NULL and its host_path unset: the template is not read. For the
 * placer: pp_vm_spec_to_place_vm(spec, vm_id, &place_vm).
 *
 * Returns: (transfer full): the spec, or %NULL with NOT_FOUND ("no VM
 *   7"), or INVALID for a VM stored with no spec (its template did not
 *   parse when the store was upgraded to typed VMs).
 */
PpVmSpec *pp_store_vm_get_spec(PpStore *store, gint64 vm_id, GError **error);

/* Records @xml (nullable: none) as the domain XML the deployer gave
 * libvirt for VM @vm_id. NOT_FOUND when there is no such VM. The XML is
 * dropped when the VM is placed again (allocated, or back to pending). */
gboolean pp_store_vm_set_domain_xml(PpStore *store, gint64 vm_id, const char *xml, GError **error);

/* The domain XML last recorded for VM @vm_id, or NULL in @ret_xml when
 * none was (no deploy since its last placement). Returns: FALSE with
 * NOT_FOUND when there is no such VM. */
gboolean pp_store_vm_get_domain_xml(PpStore *store, gint64 vm_id, char **ret_xml, GError **error);

/**
 * pp_store_vm_find:
 * @key: a VM id (decimal) or a VM name
 * @owner_id: the caller, whose VMs only are looked at; 0 for an admin (all)
 *
 * An id wins when @key could be both and that VM is the caller's. A name
 * finds the one VM of that name that is not done; when every VM of that
 * name is done, the only one. Several that are not done (names are not
 * unique), or several done and none other, is INVALID listing their ids
 * ("2 VMs are named 'audio' (ids 4, 9): use an id"). Another owner's VM
 * is NOT_FOUND in the same words as a VM that does not exist ("no VM 7",
 * "no VM 'audio'").
 *
 * Returns: (transfer full): the VM, or %NULL with the error.
 */
PpVm *pp_store_vm_find(PpStore *store, const char *key, gint64 owner_id, GError **error);
/* @owner_id 0: every owner's. @states: a bit mask of (1 << PpVmState); 0:
 * every state. Returns: (transfer full) (element-type PpVm): by id. */
GPtrArray *pp_store_vm_list(PpStore *store, gint64 owner_id, guint states, GError **error);

/* Paged lists (issue 11): what GET /v1/vms and /v1/hosts answer. */

/* The most rows a page holds. */
#define PP_STORE_PAGE_MAX 1000

/* The most bytes of a light row's reason and summary the store reads (the
 * API cuts them shorter, after hiding what a user may not read). */
#define PP_STORE_ROW_TEXT_MAX 1024

/* Which rows, and how many: those with an id above @after that every set
 * filter keeps, ascending by id, at most @limit. */
typedef struct {
  gint64 after;    /* the cursor: 0 for the first page, else the last id of the page before */
  guint limit;     /* 1..PP_STORE_PAGE_MAX */
  guint states;    /* a bit mask of (1 << PpVmState) or (1 << PpHostState); 0: any state */
  gint64 owner_id; /* VMs: 0 for every owner's */
  gint64 host_id;  /* VMs: 0 for any host or none */
} PpStorePage;

/* A VM as a list shows it: no template, no domain, no explanation (a
 * pending VM's summary line is the scheduler's, not the store's). */
typedef struct {
  gint64 id;
  char *name;
  gint64 owner_id;
  char *owner_name;
  PpVmState state;
  char *reason; /* nullable: its first PP_STORE_ROW_TEXT_MAX bytes */
  gint64 host_id;
  char *host_name; /* NULL when host_id is 0 */
  gint64 cpu;      /* hundredths of a CPU */
  gint64 memory_kib;
  guint devices; /* the devices it holds */
  gint64 created;
  gint64 updated;
  guint tries;
} PpVmRow;

void pp_vm_row_free(PpVmRow *row);

/**
 * pp_store_vm_page:
 * @page: which VMs; @page->states 0 is every state
 * @ret_next: the cursor of the next page, 0 when this is the last
 *
 * Costs O(@page->limit) index entries per state asked for (a user's or
 * everyone's, by the indexes of migration 7), or the VMs on the host when
 * @page->host_id is set; never the whole table.
 *
 * Returns: (transfer full) (element-type PpVmRow): by id.
 */
GPtrArray *pp_store_vm_page(PpStore *store, const PpStorePage *page, gint64 *ret_next,
                            GError **error);

/**
 * pp_store_host_page:
 * @page: which hosts (its states only; owner_id and host_id must be 0)
 * @ret_next: the cursor of the next page, 0 when this is the last
 *
 * Returns: (transfer full) (element-type PpHost): by id.
 */
GPtrArray *pp_store_host_page(PpStore *store, const PpStorePage *page, gint64 *ret_next,
                              GError **error);

/**
 * pp_store_vm_is_owned:
 * @ret_owned: whether VM @vm_id exists, is not done and is @owner_id's
 *
 * One point query: what a user may see of a VM that holds a device.
 */
gboolean pp_store_vm_is_owned(PpStore *store, gint64 vm_id, gint64 owner_id, gboolean *ret_owned,
                              GError **error);

/* The state named @text ("pending"); FALSE for an unknown name. */
gboolean pp_vm_state_from_string(const char *text, PpVmState *ret_state);
gboolean pp_host_state_from_string(const char *text, PpHostState *ret_state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVmRow, pp_vm_row_free)
/* Returns: (transfer full) (element-type PpVm): the VMs on host @host_id
 * (those that hold it: any state but pending and done, and failed ones
 * that kept it), by id. */
GPtrArray *pp_store_vm_list_on_host(PpStore *store, gint64 host_id, GError **error);

/**
 * pp_store_vm_allocate:
 * @device_ids: the devices, in the VM's order (its requests, then the
 *   companions of their IOMMU groups)
 *
 * In one transaction: the VM, which must be pending, gets the host (state
 * deploying) and every device, which must be on that host, free and not
 * gone; devices keep their order (a slot number). Any
 * device taken meanwhile is CONFLICT ("device 0000:3b:00.0 of host 'x' is
 * held by VM 4") and nothing changes.
 */
gboolean pp_store_vm_allocate(PpStore *store, gint64 vm_id, gint64 host_id,
                              const gint64 *device_ids, guint n_devices, gint64 now,
                              GError **error);

/* Moves the VM from @from to @to, with @reason (nullable: cleared), only if
 * it is in @from: else CONFLICT "VM 7 is running, not poweroff". */
gboolean pp_store_vm_transition(PpStore *store, gint64 vm_id, PpVmState from, PpVmState to,
                                const char *reason, gint64 now, GError **error);

/* In one transaction: the VM's devices are freed (those gone are deleted:
 * nothing holds them any more), its host cleared, its state @to (done or
 * failed) with @reason. */
gboolean pp_store_vm_release(PpStore *store, gint64 vm_id, PpVmState to, const char *reason,
                             gint64 now, GError **error);
/* The same only if the VM is in @from (else CONFLICT "VM 7 is deploying,
 * not pending"): for a caller that read its state before, while another
 * pcipassd may have moved it since. */
gboolean pp_store_vm_release_from(PpStore *store, gint64 vm_id, PpVmState from, PpVmState to,
                                  const char *reason, gint64 now, GError **error);

/* In one transaction, when the VM is in @from (else CONFLICT): what it
 * holds is released as pp_store_vm_release() does, and it is pending
 * again with @reason, to be placed anew. @count_try: a deploy failed (one
 * more try counted); else a user asked (tries start again from 0). */
gboolean pp_store_vm_requeue(PpStore *store, gint64 vm_id, PpVmState from, const char *reason,
                             gboolean count_try, gint64 now, GError **error);

/* A user's retry: as pp_store_vm_requeue() (tries from 0), after a check,
 * in the same transaction, that the VM's owner is within its quotas with
 * it (its own use left out: a limit lowered meanwhile may refuse it):
 * CONFLICT naming the quota, as pp_store_vm_create() says it. */
gboolean pp_store_vm_retry(PpStore *store, gint64 vm_id, PpVmState from, const char *reason,
                           gint64 now, GError **error);

/* One change of a VM's state (vm_history, written by the schema's
 * triggers on every change). */
typedef struct {
  gint64 at;        /* unix seconds */
  char *from_state; /* NULL: the VM was created (or the store upgraded) */
  char *to_state;
  char *reason;    /* nullable */
  char *host_name; /* the host it was on or went to; nullable */
} PpVmChange;

void pp_vm_change_free(PpVmChange *change);

/* Returns: (transfer full) (element-type PpVmChange): the VM's newest
 * changes (at most 100), oldest first. NOT_FOUND for an unknown VM. */
GPtrArray *pp_store_vm_list_history(PpStore *store, gint64 vm_id, GError **error);

/* Returns: (transfer full) (element-type PpStoreDevice): the VM's devices in
 * its order. */
GPtrArray *pp_store_vm_list_devices(PpStore *store, gint64 vm_id, GError **error);

/* Returns: (transfer full) (element-type PpStoreDevice): every device of
 * every host, by host id then address: the scheduler's one read. */
GPtrArray *pp_store_device_list_all(PpStore *store, GError **error);

typedef struct {
  gint64 cpu; /* hundredths */
  gint64 memory_kib;
} PpHostUsage;

/* Returns: (transfer full): host id (gint64 *) -> PpHostUsage *: what the
 * VMs on each host hold (deploying, running, poweroff, terminating). */
GHashTable *pp_store_host_usage(PpStore *store, GError **error);

/* Returns: (transfer full): the hosts (gint64) of devices @device_ids[@n],
 * each once, in id order; a device no longer found has none. Reads a
 * hundred devices per statement (on PostgreSQL, a round trip each). */
GArray *pp_store_device_host_ids(PpStore *store, const gint64 *device_ids, guint n, GError **error);

/* Hosts @host_ids[@n] (any order, no repeats) as the scheduler reads them
 * again, a hundred per statement: @ret_hosts (PpHost *), those found, in
 * id order; @ret_devices (PpStoreDevice *), theirs, in the order of
 * pp_store_device_list_all(); @ret_usage, as pp_store_host_usage() (a host
 * without VMs has no entry). Each statement sees a snapshot of its own, as
 * reads outside a transaction do: a change between them is announced by
 * the store's watch and read again at the scheduler's next pass. */
gboolean pp_store_host_read_many(PpStore *store, const gint64 *host_ids, guint n,
                                 GPtrArray **ret_hosts, GPtrArray **ret_devices,
                                 GHashTable **ret_usage, GError **error);

/* Returns: (transfer full): vm id (gint64 *) -> host id (gint64 *), for
 * every VM on a host. */
GHashTable *pp_store_vm_host_ids(PpStore *store, GError **error);

/**
 * pp_store_read_begin:
 *
 * Starts one read transaction for a run of reads (a GET request's): its
 * statements all see one snapshot and take SQLite's WAL read lock once,
 * not each (under 1,000 GETs a second, each statement's fcntl() lock and
 * unlock were 15 % of pcipassd's CPU). Nothing that starts its own
 * transaction may run inside: its BEGIN fails. End it with
 * pp_store_read_end(). Not nested.
 *
 * Returns: FALSE with an error when SQLite refuses.
 */
gboolean pp_store_read_begin(PpStore *store, GError **error);

/* Ends pp_store_read_begin()'s transaction; one a write inside already
 * ended is left alone. */
void pp_store_read_end(PpStore *store);

/* The tables a watcher hears of (pp_store_add_watch()). */
typedef enum {
  PP_STORE_TABLE_HOSTS,      /* the row id is the host's id */
  PP_STORE_TABLE_DEVICES,    /* the device's id */
  PP_STORE_TABLE_VMS,        /* the VM's id */
  PP_STORE_TABLE_ALLOWANCES, /* an allowance's own id (not a host's) */
} PpStoreTable;

/* Called for each row of @table inserted, updated or deleted, while the
 * statement runs: it must not use the store (note the id, read later). A
 * change may still be rolled back. */
typedef void (*PpStoreWatchFunc)(PpStoreTable table, gint64 rowid, gpointer data);

/* The most watchers a store has at once. */
#define PP_STORE_MAX_WATCHES 4

/**
 * pp_store_add_watch:
 *
 * Tells @func of every change to the rows the placement depends on, by any
 * writer of this store (the API, a report, a reconcile), so that a watcher
 * keeps its own copy up to date by reading again only what changed (the
 * scheduler), or tells others (the events of GET /v1/events). At most
 * PP_STORE_MAX_WATCHES, each told in the order added.
 */
void pp_store_add_watch(PpStore *store, PpStoreWatchFunc func, gpointer data);
/* Stops the watcher added with @func and @data. */
void pp_store_remove_watch(PpStore *store, PpStoreWatchFunc func, gpointer data);

/* --- Several pcipassd on one store (issue 15) --------------------------- */

/* Which database the store is in. */
typedef enum {
  PP_STORE_BACKEND_SQLITE,
  PP_STORE_BACKEND_POSTGRESQL,
} PpStoreBackend;

PpStoreBackend pp_store_get_backend(PpStore *store);
/* Whether @location (pp_store_open()'s) is a file (SQLite), not a
 * PostgreSQL URI. */
gboolean pp_store_location_is_file(const char *location);
/* "sqlite" or "postgresql". */
const char *pp_store_backend_to_string(PpStoreBackend backend);
/* Where the store is, a URI's password hidden: fit for logs and answers.
 * Returns: (transfer none). */
const char *pp_store_get_location(PpStore *store);

/**
 * pp_store_try_lead:
 * @name: who this pcipassd is, as others are told (host name, pid)
 * @ret_leading: (out): whether this pcipassd leads now
 *
 * SQLite: one pcipassd has the file (the state folder's lock): it leads.
 * PostgreSQL: takes the store's leader lock (a session advisory lock) if no
 * other session holds it, and then records @name and @now as the leader's
 * in store_meta. The lock lives as long as this connection's session: when
 * it ends (the daemon killed, the server gone, the session terminated) the
 * server lets it go, and a standby's next try takes it. A connection that
 * holds it already keeps it (TRUE again).
 *
 * Returns: FALSE with @error when the store cannot be asked.
 */
gboolean pp_store_try_lead(PpStore *store, const char *name, gint64 now, gboolean *ret_leading,
                           GError **error);

/* Who leads, as the leader recorded it (pp_store_try_lead()): its name
 * (NULL: none recorded yet) and since when. FALSE with @error when the
 * store cannot be asked. */
gboolean pp_store_get_leader(PpStore *store, char **ret_name, gint64 *ret_since, GError **error);

/* Called (once) when the store's connection is found lost: its session is
 * gone, and with it a leader's lock. PostgreSQL only; never for SQLite. */
typedef void (*PpStoreLostFunc)(gpointer data);
void pp_store_set_lost_func(PpStore *store, PpStoreLostFunc func, gpointer data);

/* Whether the store's connection is up (SQLite: always). Reads what the
 * server sent meanwhile (other daemons' changes, told to the watchers):
 * a connection whose server has gone is found lost here. */
gboolean pp_store_check_connection(PpStore *store);

/* Connects again after a loss (libpq tries the URI's hosts in turn); a
 * new session, which holds no lock. FALSE with @error while the server
 * cannot be reached. */
gboolean pp_store_reconnect(PpStore *store, GError **error);

/* What /metrics reports. */
typedef struct {
  guint hosts_by_state[_PP_HOST_STATE_MAX];
  guint devices;      /* every row */
  guint devices_held; /* vm_id set */
  guint devices_gone;
  guint users;
  guint tokens;
  guint vms_by_state[_PP_VM_STATE_MAX];
} PpStoreCounts;

gboolean pp_store_get_counts(PpStore *store, PpStoreCounts *ret, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpStore, pp_store_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHost, pp_host_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpStoreDevice, pp_store_device_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpUser, pp_user_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpToken, pp_token_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpQuota, pp_quota_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVm, pp_vm_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVmChange, pp_vm_change_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHostAllowance, pp_host_allowance_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHostToken, pp_host_token_free)

G_END_DECLS
