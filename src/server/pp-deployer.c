#define G_LOG_DOMAIN "pp-deployer"

#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "pp-autoptr.h"
#include "pp-context-iso.h"
#include "pp-context.h"
#include "pp-deployer-priv.h"
#include "pp-deployer.h"
#include "pp-domain-caps.h"
#include "pp-domain-xml.h"
#include "pp-libvirt-events.h"
#include "pp-store-network.h"
#include "pp-vm-context.h"

/* clang-format off */
G_DEFINE_QUARK(pp-deployer-error-quark, pp_deployer_error)
/* clang-format on */

/* Where events go: the daemon's function, until pp_deployer_free() clears
 * it. Reference counted (each connection's listeners hold it); func is
 * read and cleared on the main loop only. */
typedef struct {
  PpDeployerEventFunc func;
  gpointer user_data;
} Sink;

/* The connections, shared by the worker threads: one per URI, opened on
 * first use and reopened when libvirt says it died. Reference counted, so
 * that calls in flight outlive pp_deployer_free(). */
typedef struct {
  GMutex lock;
  GHashTable *conns; /* uri -> Conn */
  Sink *sink;
  char *owner; /* the store's id (pp_deployer_new()) */
  /* Tests only: uri -> capabilities XML answered instead of libvirt's
   * (pp_deployer_test_set_capabilities()); NULL: none. */
  GHashTable *test_caps;
  /* pcipassd's domain-type (pp_domain_caps_choose()'s @want): NULL for
   * auto. Under lock. */
  char *domain_type;
  /* "uri pool volume" -> the SHA-256 of the ISO last uploaded there, so
   * that a start whose context disk did not change (a resume with the
   * same leases) does not upload it again. In memory: after a restart the
   * first start uploads once. Under lock. */
  GHashTable *context_sums;
} Shared;

struct _PpDeployer {
  Shared *shared;
};

typedef enum {
  CALL_START,
  CALL_DESTROY,
  CALL_LIST,
} CallKind;

typedef struct {
  Shared *shared;
  CallKind kind;
  char *uri;
  char *name; /* start, destroy: the domain; list: the prefix */
  /* start: the domain's inputs, read from the store on the main loop */
  gint64 vm_id;
  PpVmSpec *spec;   /* its images resolved */
  GArray *hostdevs; /* PpPciAddress, in the VM's order */
  GArray *nics;     /* PpDomainNic, by NIC id (issue 12); their texts in nic_texts */
  GPtrArray *nic_texts;
  gboolean managed; /* FALSE on a prebound host */
  char *xml;        /* start: the XML built in the thread; NULL until then */
  /* start: the context disk (issue 13), NULL when the VM has none;
   * start and terminate: the host's pool and the volume's name
   * (context_volume_name()), NULL when there is nothing to put or remove. */
  PpContextDisk *context;
  char *context_pool;
  char *context_volume;
  gboolean test_driver; /* start: the host is libvirt's test driver (build_xml()) */
} Call;

/* A connection and what listens to it. */
typedef struct {
  virConnectPtr conn;
  int events; /* the lifecycle callback's id; -1: none */
  /* The close callback's data, NULL when none is registered. It is ours
   * to free: drivers without close callbacks (the test driver) accept the
   * registration and would never free it. */
  struct _Listener *closing;
  /* The domain the host's libvirt runs, from its capabilities, read on the
   * first start (a connection reopened reads them again: libvirt, or the
   * host, may have changed). Under Shared's lock. */
  gboolean kind_known;
  PpDomainKind kind;
} Conn;

/* The opaque of one connection's event callbacks. */
typedef struct _Listener {
  Sink *sink;
  char *uri;
} Listener;

static void
sink_release(Sink *sink)
{
  g_atomic_rc_box_release(sink);
}

static void
shared_clear(gpointer data)
{
  Shared *shared = data;

  g_hash_table_unref(shared->conns);
  if (shared->test_caps != NULL)
    g_hash_table_unref(shared->test_caps);
  g_hash_table_unref(shared->context_sums);
  g_mutex_clear(&shared->lock);
  g_free(shared->owner);
  g_free(shared->domain_type);
  sink_release(shared->sink);
}

static Listener *
listener_new(Sink *sink, const char *uri)
{
  Listener *l = g_new0(Listener, 1);

  l->sink = g_atomic_rc_box_acquire(sink);
  l->uri = g_strdup(uri);
  return l;
}

static void
listener_free(void *data)
{
  Listener *l = data;

  sink_release(l->sink);
  g_free(l->uri);
  g_free(l);
}

static void
emit(Listener *l, const char *domain, PpDomainEventKind kind, const char *what)
{
  if (l->sink->func != NULL)
    l->sink->func(l->uri, domain, kind, what, l->sink->user_data);
}

/* The lifecycle events that change what pcipass records; the others
 * (started, paused, resumed, defined, ...) are left to the reconcile. On
 * the main loop. */
static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
  static const struct {
    int event, detail;
    PpDomainEventKind kind;
    const char *what;
  } table[] = {
    { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, PP_DOMAIN_EVENT_SHUTDOWN,
      "stopped: shut down by its guest" },
    { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED, PP_DOMAIN_EVENT_DESTROYED,
      "stopped: destroyed" },
    { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED, PP_DOMAIN_EVENT_CRASHED,
      "stopped: its guest crashed" },
    { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED, PP_DOMAIN_EVENT_CRASHED,
      "stopped: QEMU failed (its process ended)" },
    { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED, PP_DOMAIN_EVENT_STOPPED,
      "stopped: migrated away" },
    { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SAVED, PP_DOMAIN_EVENT_STOPPED,
      "stopped: saved to a file" },
    { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT, PP_DOMAIN_EVENT_STOPPED,
      "stopped: a snapshot was loaded" },
    { VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_CRASHED_PANICKED, PP_DOMAIN_EVENT_CRASHED,
      "crashed: its guest panicked" },
  };
  const char *name = virDomainGetName(dom);

  for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
    if (table[i].event == event && table[i].detail == detail) {
      g_debug("'%s': %s %s", ((Listener *)opaque)->uri, name, table[i].what);
      emit(opaque, name, table[i].kind, table[i].what);
      return 0;
    }
  }
  g_debug("'%s': %s: lifecycle event %d, detail %d, ignoring", ((Listener *)opaque)->uri, name,
          event, detail);
  return 0;
}

/* The connection ended other than by our close. On the main loop. */
static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
  static const char *const words[] = {
    [VIR_CONNECT_CLOSE_REASON_ERROR] = "the connection to libvirt failed",
    [VIR_CONNECT_CLOSE_REASON_EOF] = "libvirt closed the connection",
    [VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = "libvirt stopped answering (keepalive)",
  };

  if (reason == VIR_CONNECT_CLOSE_REASON_CLIENT || reason < 0 ||
      (guint)reason >= G_N_ELEMENTS(words) || words[reason] == NULL)
    return;
  g_debug("'%s': %s", ((Listener *)opaque)->uri, words[reason]);
  emit(opaque, NULL, PP_DOMAIN_EVENT_LOST, words[reason]);
}

/* Listens to a new connection: its domains' lifecycle, its end, and a
 * keepalive so that a host that vanishes is noticed (remote URIs only;
 * the others have nothing to keep alive). Worker thread. Returns:
 * (transfer full): the connection (taken) with its listeners. */
static Conn *
listen_to(Shared *shared, virConnectPtr conn, const char *uri)
{
  Conn *c = g_new0(Conn, 1);
  Listener *events = listener_new(shared->sink, uri);
  Listener *closing = listener_new(shared->sink, uri);

  c->conn = conn;
  c->events = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                               VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), events,
                                               listener_free);
  if (c->events < 0) {
    g_debug("'%s': no domain events (%s); the reconcile alone follows its domains", uri,
            virGetLastErrorMessage());
    listener_free(events);
  }
  if (virConnectRegisterCloseCallback(conn, on_close, closing, NULL) == 0)
    c->closing = closing;
  else
    listener_free(closing);
  if (virConnectSetKeepAlive(conn, 5, 3) < 0)
    g_debug("'%s': no keepalive (%s), ignoring", uri, virGetLastErrorMessage());
  virResetLastError();
  return c;
}

static void
call_free(Call *call)
{
  g_atomic_rc_box_release_full(call->shared, shared_clear);
  g_free(call->uri);
  g_free(call->name);
  g_free(call->xml);
  pp_vm_spec_free(call->spec);
  if (call->hostdevs != NULL)
    g_array_unref(call->hostdevs);
  if (call->nics != NULL)
    g_array_unref(call->nics);
  if (call->nic_texts != NULL)
    g_ptr_array_unref(call->nic_texts);
  pp_context_disk_free(call->context);
  g_free(call->context_pool);
  g_free(call->context_volume);
  g_free(call);
}

/* libvirt prints its errors on stderr unless told otherwise; we report
 * them ourselves, once, where they happen. */
static void
silence(void *user_data, virErrorPtr error)
{
}

/* Its listeners deregistered first: libvirt frees their data then, not
 * later from an event loop that may no longer run. */
static void
conn_free(gpointer data)
{
  Conn *c = data;

  if (c->events >= 0)
    virConnectDomainEventDeregisterAny(c->conn, c->events);
  /* A call of on_close in progress ends before this returns. */
  if (c->closing != NULL)
    virConnectUnregisterCloseCallback(c->conn, on_close);
  virConnectClose(c->conn);
  if (c->closing != NULL)
    listener_free(c->closing);
  virResetLastError();
  g_free(c);
}

PpDeployer *
pp_deployer_new(const char *owner, PpDeployerEventFunc events, gpointer user_data)
{
  static gsize once = 0;
  PpDeployer *deployer = g_new0(PpDeployer, 1);

  if (g_once_init_enter(&once)) {
    /* Before any thread calls libvirt (its rule for threaded programs),
     * and its event loop before any connection. */
    virInitialize();
    virSetErrorFunc(NULL, silence);
    pp_libvirt_events_register();
    g_once_init_leave(&once, 1);
  }
  deployer->shared = g_atomic_rc_box_new0(Shared);
  g_mutex_init(&deployer->shared->lock);
  deployer->shared->conns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, conn_free);
  deployer->shared->sink = g_atomic_rc_box_new0(Sink);
  deployer->shared->sink->func = events;
  deployer->shared->sink->user_data = user_data;
  deployer->shared->owner = g_strdup(owner);
  deployer->shared->context_sums = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return deployer;
}

void
pp_deployer_free(PpDeployer *deployer)
{
  if (deployer == NULL)
    return;
  /* Events still queued for connections that close later go nowhere. */
  deployer->shared->sink->func = NULL;
  g_atomic_rc_box_release_full(deployer->shared, shared_clear);
  g_free(deployer);
}

void
pp_domain_info_free(PpDomainInfo *info)
{
  if (info == NULL)
    return;
  g_free(info->name);
  g_free(info->what);
  g_free(info->owner);
  g_free(info);
}

static void
set_libvirt_error(GError **error, PpDeployerError code, const char *what)
{
  const char *message = virGetLastErrorMessage();

  g_set_error(error, PP_DEPLOYER_ERROR, code, "libvirt: %s: %s", what,
              message ? message : "no message");
}

/* The error of a call on @conn that failed: libvirt's last error, and
 * whose fault it is: the connection's (it broke: the host), the domain
 * XML's (the VM's own), or the call's. Read before anything else calls
 * libvirt, which would reset it. */
static void
set_call_error(GError **error, virConnectPtr conn, const char *what)
{
  virErrorPtr last = virGetLastError();
  g_autofree char *message = g_strdup(last && last->message ? last->message : "no message");
  int domain = last ? last->domain : 0, code = last ? last->code : 0;
  PpDeployerError kind = PP_DEPLOYER_ERROR_LIBVIRT;

  if (domain == VIR_FROM_RPC || domain == VIR_FROM_REMOTE)
    kind = PP_DEPLOYER_ERROR_CONNECT;
  switch (code) {
  case VIR_ERR_NO_CONNECT:
  case VIR_ERR_RPC:
  case VIR_ERR_AUTH_FAILED:
  case VIR_ERR_AUTH_CANCELLED:
  case VIR_ERR_AUTH_UNAVAILABLE:
    kind = PP_DEPLOYER_ERROR_CONNECT;
    break;
  case VIR_ERR_XML_ERROR:
  case VIR_ERR_XML_DETAIL:
  case VIR_ERR_XML_INVALID_SCHEMA:
    kind = PP_DEPLOYER_ERROR_CONFIG;
    break;
  default:
    break;
  }
  if (conn != NULL && virConnectIsAlive(conn) == 0)
    kind = PP_DEPLOYER_ERROR_CONNECT;
  g_set_error(error, PP_DEPLOYER_ERROR, kind, "libvirt: %s: %s", what, message);
}

/* The connection of @uri, held by the caller (a reference of its own).
 * Worker thread. */
static virConnectPtr
get_conn(Shared *shared, const char *uri, GError **error)
{
  virConnectPtr opened;
  Conn *c, *mine;

  g_mutex_lock(&shared->lock);
  c = g_hash_table_lookup(shared->conns, uri);
  if (c != NULL && virConnectIsAlive(c->conn) == 1) {
    virConnectRef(c->conn);
    g_mutex_unlock(&shared->lock);
    return c->conn;
  }
  g_mutex_unlock(&shared->lock);

  /* Opened without the lock: a host that does not answer holds up its
   * own calls only, never another host's. */
  if (c != NULL)
    g_debug("'%s': the connection died, reopening", uri);
  opened = virConnectOpen(uri);
  if (opened == NULL) {
    set_libvirt_error(error, PP_DEPLOYER_ERROR_CONNECT, uri);
    return NULL;
  }
  mine = listen_to(shared, opened, uri);

  g_mutex_lock(&shared->lock);
  c = g_hash_table_lookup(shared->conns, uri);
  if (c != NULL && virConnectIsAlive(c->conn) == 1) {
    /* Another call opened one meanwhile: that one serves. */
    virConnectRef(c->conn);
    g_mutex_unlock(&shared->lock);
    conn_free(mine);
    return c->conn;
  }
  /* Replacing drops a dead one. */
  g_hash_table_replace(shared->conns, g_strdup(uri), mine);
  virConnectRef(opened);
  g_mutex_unlock(&shared->lock);
  return opened;
}

/* The domain that the host's libvirt behind @conn runs (pp-domain-caps),
 * read from its capabilities once per connection. Worker thread. */
static gboolean
conn_kind(Shared *shared, const char *uri, virConnectPtr conn, PpDomainKind *ret_kind,
          GError **error)
{
  g_autofree char *caps = NULL;
  g_autofree char *want = NULL;
  g_autoptr(GError) local = NULL;
  PpDomainKind kind;
  Conn *c;

  g_mutex_lock(&shared->lock);
  want = g_strdup(shared->domain_type);
  c = g_hash_table_lookup(shared->conns, uri);
  if (c != NULL && c->conn == conn && c->kind_known) {
    *ret_kind = c->kind;
    g_mutex_unlock(&shared->lock);
    return TRUE;
  }
  if (shared->test_caps != NULL)
    caps = g_strdup(g_hash_table_lookup(shared->test_caps, uri));
  g_mutex_unlock(&shared->lock);

  /* Read without the lock, as a connection is opened. */
  if (caps == NULL)
    caps = virConnectGetCapabilities(conn);
  if (caps == NULL) {
    g_autofree char *what = g_strdup_printf("reading the capabilities of '%s'", uri);

    set_call_error(error, conn, what);
    return FALSE;
  }
  if (!pp_domain_caps_choose(caps, strlen(caps), want, &kind, &local)) {
    g_set_error(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_UNSUPPORTED, "'%s': %s", uri,
                local->message);
    return FALSE;
  }
  g_debug("'%s': domains of type %s, arch %s", uri, kind.type, kind.arch);
  g_mutex_lock(&shared->lock);
  c = g_hash_table_lookup(shared->conns, uri);
  if (c != NULL && c->conn == conn) {
    c->kind = kind;
    c->kind_known = TRUE;
  }
  g_mutex_unlock(&shared->lock);
  *ret_kind = kind;
  return TRUE;
}

/* The domain XML of @call, for the host behind @conn. Worker thread. */
static gboolean
build_xml(Shared *shared, Call *call, virConnectPtr conn, GError **error)
{
  PpDomainKind kind;
  PpDomainOptions options = {
    .name = call->name, .managed = call->managed, .store_id = shared->owner, .vm_id = call->vm_id
  };

  if (!conn_kind(shared, call->uri, conn, &kind, error))
    return FALSE;
  options.domain_type = kind.type;
  options.arch = kind.arch;
  call->test_driver = g_strcmp0(kind.type, "test") == 0;
  if (call->nics != NULL && call->nics->len > 0) {
    options.nics = (const PpDomainNic *)(void *)call->nics->data;
    options.n_nics = call->nics->len;
  }
  if (call->context != NULL) {
    options.context_pool = call->context_pool;
    options.context_volume = call->context_volume;
  }
  call->xml = pp_domain_xml_build(call->spec, &options, call->hostdevs);
  return TRUE;
}

/* The store id in @dom's pcipass metadata, or NULL when it has none.
 * Worker thread. Returns: (transfer full) (nullable). */
static char *
domain_owner(virDomainPtr dom)
{
  g_autofree char *element =
      virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, PP_DOMAIN_XML_METADATA_URI, 0);
  const char *at = element != NULL ? strstr(element, "store=") : NULL;
  char quote;
  const char *end;

  virResetLastError();
  if (at == NULL)
    return NULL;
  at += strlen("store=");
  quote = *at++;
  end = quote == '\'' || quote == '"' ? strchr(at, quote) : NULL;
  return end != NULL ? g_strndup(at, (gsize)(end - at)) : NULL;
}

/* Whether @dom is another store's: it carries an owner that is not ours.
 * One without any (a pcipassd from before metadata) counts as ours. */
static gboolean
domain_foreign(Shared *shared, virDomainPtr dom, char **ret_owner)
{
  g_autofree char *owner = domain_owner(dom);
  gboolean foreign = owner != NULL && g_strcmp0(owner, shared->owner) != 0;

  if (ret_owner != NULL)
    *ret_owner = g_steal_pointer(&owner);
  return foreign;
}

/* The context disk's volume (issue 13) -------------------------------- */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStorageVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStream, virStreamFree)

/* The volume of domain @name's context disk. Returns: (transfer full). */
static char *
context_volume_name(const char *name)
{
  return g_strconcat(name, "-context.iso", NULL);
}

static char *
context_sum_key(const Call *call)
{
  return g_strdup_printf("%s %s %s", call->uri, call->context_pool, call->context_volume);
}

/* The pool of @call's context disk, active. Worker thread. */
static virStoragePoolPtr
context_pool_get(virConnectPtr conn, const Call *call, GError **error)
{
  g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, call->context_pool);

  if (pool == NULL) {
    virErrorPtr last = virGetLastError();

    g_set_error(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_LIBVIRT,
                "libvirt: the context disk of %s goes to the storage pool '%s' of '%s': %s; "
                "define it on the host (virsh pool-define-as %s dir --target "
                "/var/lib/libvirt/images; virsh pool-start %s; virsh pool-autostart %s), or name "
                "another (pcipass host update HOST --context-pool POOL)",
                call->name, call->context_pool, call->uri,
                last != NULL && last->message != NULL ? last->message : "no message",
                call->context_pool, call->context_pool, call->context_pool);
    return NULL;
  }
  if (virStoragePoolIsActive(pool) != 1) {
    g_set_error(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_LIBVIRT,
                "libvirt: the storage pool '%s' of '%s', where %s's context disk goes, is not "
                "active; start it (virsh pool-start %s)",
                call->context_pool, call->uri, call->name, call->context_pool);
    return NULL;
  }
  return g_steal_pointer(&pool);
}

/* Puts @call's context disk into its volume: created (again when its size
 * changed) and uploaded, unless these bytes were the last uploaded there.
 * On libvirt's test driver, which keeps no bytes (virStorageVolUpload is
 * not supported there), the volume is created with the ISO's size and
 * nothing is uploaded: daemon tests see the volume come and go, and the
 * upload itself runs against a real libvirtd (test-lifecycle, the labs).
 * Worker thread. */
static gboolean
context_volume_put(Shared *shared, Call *call, virConnectPtr conn, GError **error)
{
  g_autoptr(GBytes) iso = pp_context_iso_build(call->context, error);
  g_autoptr(virStoragePool) pool = NULL;
  g_autoptr(virStorageVol) vol = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *key = context_sum_key(call);
  g_autofree char *what = g_strdup_printf("the context disk of %s in pool '%s' of '%s'", call->name,
                                          call->context_pool, call->uri);
  const char *data;
  gsize len;

  if (iso == NULL) {
    g_prefix_error(error, "the context disk of %s: ", call->name);
    return FALSE;
  }
  data = g_bytes_get_data(iso, &len);
  sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, iso);
  pool = context_pool_get(conn, call, error);
  if (pool == NULL)
    return FALSE;
  vol = virStorageVolLookupByName(pool, call->context_volume);
  virResetLastError();
  if (vol != NULL) {
    virStorageVolInfo info;
    gboolean same;

    if (virStorageVolGetInfo(vol, &info) != 0) {
      set_call_error(error, conn, what);
      return FALSE;
    }
    g_mutex_lock(&shared->lock);
    same =
        info.capacity == len && g_strcmp0(g_hash_table_lookup(shared->context_sums, key), sum) == 0;
    g_mutex_unlock(&shared->lock);
    if (same) {
      g_debug("%s: unchanged, not uploaded again", what);
      return TRUE;
    }
    if (info.capacity != len) {
      if (virStorageVolDelete(vol, 0) != 0) {
        set_call_error(error, conn, what);
        return FALSE;
      }
      g_clear_pointer(&vol, virStorageVolFree);
    }
  }
  if (vol == NULL) {
    g_autofree char *xml = g_markup_printf_escaped(
        "<volume><name>%s</name><capacity unit='bytes'>%" G_GSIZE_FORMAT "</capacity>"
        "<allocation unit='bytes'>%" G_GSIZE_FORMAT "</allocation>"
        "<target><format type='raw'/><permissions><mode>0644</mode></permissions></target>"
        "</volume>",
        call->context_volume, len, len);

    vol = virStorageVolCreateXML(pool, xml, 0);
    if (vol == NULL) {
      set_call_error(error, conn, what);
      return FALSE;
    }
  }
  if (!call->test_driver) {
    g_autoptr(virStream) stream = virStreamNew(conn, 0);
    gsize done = 0;

    if (stream == NULL || virStorageVolUpload(vol, stream, 0, len, 0) != 0) {
      set_call_error(error, conn, what);
      return FALSE;
    }
    while (done < len) {
      int sent = virStreamSend(stream, data + done, MIN(len - done, (gsize)256 * 1024));

      if (sent < 0) {
        set_call_error(error, conn, what);
        virStreamAbort(stream);
        return FALSE;
      }
      done += (gsize)sent;
    }
    if (virStreamFinish(stream) != 0) {
      set_call_error(error, conn, what);
      return FALSE;
    }
  }
  g_mutex_lock(&shared->lock);
  g_hash_table_replace(shared->context_sums, g_steal_pointer(&key), g_steal_pointer(&sum));
  g_mutex_unlock(&shared->lock);
  g_debug("%s: %" G_GSIZE_FORMAT " bytes%s", what, len,
          call->test_driver ? " (test driver: created, not uploaded)" : " uploaded");
  return TRUE;
}

/* Removes @call's context volume; one that is not there (nor its pool)
 * counts as removed. Worker thread. */
static gboolean
context_volume_remove(Shared *shared, const Call *call, virConnectPtr conn, GError **error)
{
  g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, call->context_pool);
  g_autoptr(virStorageVol) vol = NULL;
  g_autofree char *key = context_sum_key(call);
  g_autofree char *what = g_strdup_printf("removing the context disk of %s from pool '%s' of '%s'",
                                          call->name, call->context_pool, call->uri);
  virErrorPtr last;

  g_mutex_lock(&shared->lock);
  g_hash_table_remove(shared->context_sums, key);
  g_mutex_unlock(&shared->lock);
  if (pool != NULL)
    vol = virStorageVolLookupByName(pool, call->context_volume);
  last = virGetLastError();
  if (vol == NULL) {
    if (last == NULL || last->code == VIR_ERR_NO_STORAGE_POOL ||
        last->code == VIR_ERR_NO_STORAGE_VOL) {
      virResetLastError();
      return TRUE;
    }
    set_call_error(error, conn, what);
    return FALSE;
  }
  if (virStorageVolDelete(vol, 0) != 0) {
    set_call_error(error, conn, what);
    return FALSE;
  }
  g_debug("%s: done", what);
  return TRUE;
}

static gboolean
do_start(Shared *shared, Call *call, GError **error)
{
  g_autoptr(virConnect) conn = get_conn(shared, call->uri, error);
  g_autoptr(virDomain) dom = NULL;

  if (conn == NULL)
    return FALSE;
  /* Built first, also for a domain already running: it was started from
   * the same VM, devices and host (a restart finishing a deploy), and
   * this is the XML recorded for it. */
  if (!build_xml(shared, call, conn, error))
    return FALSE;
  dom = virDomainLookupByName(conn, call->name);
  if (dom != NULL && virDomainIsActive(dom) == 1) {
    g_autofree char *owner = NULL;

    if (domain_foreign(shared, dom, &owner)) {
      g_set_error(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_LIBVIRT,
                  "libvirt: starting %s on '%s': a domain of that name runs there that another "
                  "pcipass store (%s) started; destroy it there, or give the host to one "
                  "pcipassd only",
                  call->name, call->uri, owner);
      return FALSE;
    }
    g_debug("%s on '%s': already running", call->name, call->uri);
    return TRUE;
  }
  g_clear_pointer(&dom, virDomainFree);
  virResetLastError();
  /* Not while a domain runs from it (above): QEMU reads it. A volume
   * that an upload failed halfway goes, as the VM may not start again. */
  if (call->context != NULL && !context_volume_put(shared, call, conn, error)) {
    context_volume_remove(shared, call, conn, NULL);
    return FALSE;
  }
  dom = virDomainCreateXML(conn, call->xml, VIR_DOMAIN_NONE);
  if (dom == NULL) {
    g_autofree char *what = g_strdup_printf("starting %s on '%s'", call->name, call->uri);

    set_call_error(error, conn, what);
    /* Its disk goes with it: a VM that does not run holds nothing. */
    if (call->context != NULL)
      context_volume_remove(shared, call, conn, NULL);
    return FALSE;
  }
  g_debug("%s on '%s': started", call->name, call->uri);
  return TRUE;
}

static gboolean
do_destroy(Shared *shared, const Call *call, GError **error)
{
  g_autoptr(virConnect) conn = get_conn(shared, call->uri, error);
  g_autoptr(virDomain) dom = NULL;

  if (conn == NULL)
    return FALSE;
  dom = virDomainLookupByName(conn, call->name);
  if (dom == NULL) {
    virErrorPtr last = virGetLastError();

    if (last != NULL && last->code == VIR_ERR_NO_DOMAIN) {
      g_debug("%s on '%s': no such domain, nothing to destroy", call->name, call->uri);
      virResetLastError();
      return call->context_volume == NULL || context_volume_remove(shared, call, conn, error);
    }
    set_call_error(error, conn, call->name);
    return FALSE;
  }
  if (domain_foreign(shared, dom, NULL)) {
    g_debug("%s on '%s': another store's, left alone", call->name, call->uri);
    return TRUE;
  }
  if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) != 0) {
    g_autofree char *what = g_strdup_printf("destroying %s on '%s'", call->name, call->uri);

    set_call_error(error, conn, what);
    return FALSE;
  }
  g_debug("%s on '%s': destroyed", call->name, call->uri);
  return call->context_volume == NULL || context_volume_remove(shared, call, conn, error);
}

/* libvirt's state of a domain in words, and what it means here. */
static PpDomainRun
domain_run(int state, int reason, char **ret_what)
{
  static const char *const shutoff[] = {
    [VIR_DOMAIN_SHUTOFF_UNKNOWN] = "shut off",
    [VIR_DOMAIN_SHUTOFF_SHUTDOWN] = "shut off: shut down by its guest",
    [VIR_DOMAIN_SHUTOFF_DESTROYED] = "shut off: destroyed",
    [VIR_DOMAIN_SHUTOFF_CRASHED] = "shut off: its guest crashed",
    [VIR_DOMAIN_SHUTOFF_MIGRATED] = "shut off: migrated away",
    [VIR_DOMAIN_SHUTOFF_SAVED] = "shut off: saved to a file",
    [VIR_DOMAIN_SHUTOFF_FAILED] = "shut off: QEMU failed",
    [VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT] = "shut off: a snapshot was loaded",
  };

  switch (state) {
  case VIR_DOMAIN_SHUTOFF:
    *ret_what =
        g_strdup(reason >= 0 && (guint)reason < G_N_ELEMENTS(shutoff) && shutoff[reason] != NULL
                     ? shutoff[reason]
                     : "shut off");
    return reason == VIR_DOMAIN_SHUTOFF_CRASHED || reason == VIR_DOMAIN_SHUTOFF_FAILED
               ? PP_DOMAIN_CRASHED
               : PP_DOMAIN_SHUTOFF;
  case VIR_DOMAIN_CRASHED:
    *ret_what = g_strdup("crashed");
    return PP_DOMAIN_CRASHED;
  case VIR_DOMAIN_PAUSED:
    *ret_what = g_strdup("paused");
    return PP_DOMAIN_ACTIVE;
  default:
    *ret_what = g_strdup("running");
    return PP_DOMAIN_ACTIVE;
  }
}

static GPtrArray *
do_list(Shared *shared, const Call *call, GError **error)
{
  g_autoptr(virConnect) conn = get_conn(shared, call->uri, error);
  g_autoptr(GPtrArray) list = NULL;
  virDomainPtr *doms = NULL;
  int n;

  if (conn == NULL)
    return NULL;
  n = virConnectListAllDomains(conn, &doms, 0);
  if (n < 0) {
    g_autofree char *what = g_strdup_printf("listing the domains of '%s'", call->uri);

    set_call_error(error, conn, what);
    return NULL;
  }
  list = g_ptr_array_new_with_free_func((GDestroyNotify)pp_domain_info_free);
  for (int i = 0; i < n; i++) {
    const char *name = virDomainGetName(doms[i]);
    int state = 0, reason = 0;

    /* A domain that went between the list and this is not there. */
    if (name != NULL && g_str_has_prefix(name, call->name) &&
        virDomainGetState(doms[i], &state, &reason, 0) == 0) {
      PpDomainInfo *info = g_new0(PpDomainInfo, 1);

      info->name = g_strdup(name);
      info->run = domain_run(state, reason, &info->what);
      info->owner = domain_owner(doms[i]);
      g_ptr_array_add(list, info);
    }
    virDomainFree(doms[i]);
  }
  free(doms);
  return g_steal_pointer(&list);
}

static void
run_call(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Call *call = task_data;
  GError *error = NULL;

  if (call->kind == CALL_LIST) {
    GPtrArray *list = do_list(call->shared, call, &error);

    virResetLastError();
    if (list != NULL)
      g_task_return_pointer(task, list, (GDestroyNotify)g_ptr_array_unref);
    else
      g_task_return_error(task, error);
    return;
  }
  if (call->kind == CALL_START ? do_start(call->shared, call, &error)
                               : do_destroy(call->shared, call, &error)) {
    virResetLastError();
    g_task_return_boolean(task, TRUE);
  } else {
    virResetLastError();
    g_task_return_error(task, error);
  }
}

static Call *
call_new(PpDeployer *deployer, CallKind kind, const char *uri, const char *name)
{
  Call *call = g_new0(Call, 1);

  call->shared = g_atomic_rc_box_acquire(deployer->shared);
  call->kind = kind;
  call->uri = g_strdup(uri);
  call->name = g_strdup(name);
  return call;
}

static GTask *
task_new(Call *call, gpointer tag, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, NULL, callback, user_data);

  g_task_set_source_tag(task, tag);
  g_task_set_task_data(task, call, (GDestroyNotify)call_free);
  return task;
}

static void
dispatch(PpDeployer *deployer, CallKind kind, const char *uri, const char *name, gpointer tag,
         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = task_new(call_new(deployer, kind, uri, name), tag, callback, user_data);

  g_task_run_in_thread(task, run_call);
}

/* A text @call keeps for its NICs. Returns: (transfer none). */
static const char *
keep_text(Call *call, char *text)
{
  if (text != NULL)
    g_ptr_array_add(call->nic_texts, text);
  return text;
}

/* The VM's NICs with their leases and devices (issue 12), into @call. A
 * PCI NIC takes the network's VLAN unless it says its own (an
 * administrator's VLAN_ID); a bridged one the network's bridge unless it
 * names one. A bridged NIC is tagged on an ovswitch network only (its
 * BRIDGE is an Open vSwitch bridge, where the port carries the tag); on
 * the others BRIDGE is the bridge of the network, or of its VLAN, and the
 * NIC is plugged in untagged (a tag on a Linux bridge is refused by
 * libvirt). */
static gboolean
read_vm_nics(Call *call, PpStore *store, const GPtrArray *devices, GError **error)
{
  g_autoptr(GArray) leases = pp_store_vm_list_leases(store, call->vm_id, error);

  if (leases == NULL)
    return FALSE;
  call->nics = g_array_new(FALSE, TRUE, sizeof(PpDomainNic));
  call->nic_texts = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < call->spec->nics->len; i++) {
    const PpVmNic *vm_nic = g_ptr_array_index(call->spec->nics, i);
    g_autoptr(PpNetwork) network = NULL;
    PpDomainNic nic = { 0 };

    nic.kind = vm_nic->kind;
    nic.vlan_id = -1;
    nic.mac = vm_nic->mac;
    nic.model = vm_nic->model;
    nic.bridge = vm_nic->bridge;
    if (vm_nic->network_id > 0) {
      network = pp_store_network_get(store, vm_nic->network_id, error);
      if (network == NULL) {
        g_prefix_error(error, "NIC %u: ", i);
        return FALSE;
      }
      if (nic.bridge == NULL)
        nic.bridge = keep_text(call, g_strdup(network->spec->bridge));
      if (nic.kind == PP_VM_NIC_BRIDGE && network->spec->vn_mad == PP_NETWORK_VN_MAD_OVSWITCH) {
        nic.openvswitch = TRUE;
        nic.vlan_id = network->spec->vlan_id;
      }
      nic.mac = NULL;
      for (guint k = 0; k < leases->len; k++) {
        const PpStoreLease *lease = &g_array_index(leases, PpStoreLease, k);

        if (lease->nic_id == (gint)i)
          nic.mac = keep_text(
              call, g_strdup(pp_mac_format(&lease->lease.mac, (char[PP_MAC_BUFSIZE]){ 0 })));
      }
      if (nic.mac == NULL) {
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                    "NIC %u has no lease of network '%s'", i, network->name);
        return FALSE;
      }
    }
    if (nic.kind == PP_VM_NIC_PCI) {
      gboolean found = FALSE;

      nic.vlan_id = vm_nic->vlan_id >= 0 ? vm_nic->vlan_id
                    : network != NULL    ? network->spec->vlan_id
                                         : -1;
      for (guint k = 0; k < devices->len; k++) {
        const PpStoreDevice *dev = g_ptr_array_index((GPtrArray *)devices, k);

        if (dev->vm_slot == vm_nic->request) {
          nic.host = dev->pci.address;
          nic.is_vf = pp_probe_device_is_vf(&dev->pci);
          found = TRUE;
        }
      }
      if (!found) {
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                    "PCI NIC %u holds no device (request %d)", i, vm_nic->request);
        return FALSE;
      }
    } else if (nic.bridge == NULL) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                  "NIC %u has no bridge: its network serves PCI NICs only", i);
      return FALSE;
    }
    g_array_append_val(call->nics, nic);
  }
  return TRUE;
}

/* What the domain of VM @vm_id is made of, read from the store now (main
 * loop), into @call; the error is the module's that failed. */
static gboolean
read_vm_inputs(Call *call, PpStore *store, const PpImages *images, GError **error)
{
  g_autoptr(GPtrArray) devices = NULL;

  call->spec = pp_store_vm_get_spec(store, call->vm_id, error);
  if (call->spec == NULL)
    return FALSE;
  /* Again now, not only at create: an image may have changed or gone. */
  if (!pp_images_resolve_spec(images, call->spec, NULL, error)) {
    g_prefix_error(error, "an image of its template cannot be used: ");
    return FALSE;
  }
  devices = pp_store_vm_list_devices(store, call->vm_id, error);
  if (devices == NULL)
    return FALSE;
  call->hostdevs = g_array_sized_new(FALSE, TRUE, sizeof(PpPciAddress), devices->len);
  for (guint i = 0; i < devices->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(devices, i);

    g_array_append_val(call->hostdevs, dev->pci.address);
  }
  return read_vm_nics(call, store, devices, error);
}

/* The VM's context disk (issue 13), into @call: every VM with a CONTEXT
 * vector or NICs has one, in @host's pool. Built here, from the store as
 * it is now, so that a resume after its leases changed carries the new
 * ones. */
static gboolean
read_vm_context(Call *call, PpStore *store, const PpHost *host, GError **error)
{
  g_autoptr(PpVm) vm = NULL;

  if (!call->spec->context.present && call->spec->nics->len == 0)
    return TRUE;
  vm = pp_store_vm_get(store, call->vm_id, error);
  if (vm == NULL)
    return FALSE;
  call->context = pp_vm_context_disk(store, vm, error);
  if (call->context == NULL) {
    g_prefix_error(error, "its context disk: ");
    return FALSE;
  }
  call->context_pool = g_strdup(host->context_pool);
  call->context_volume = context_volume_name(call->name);
  return TRUE;
}

/* read_vm_inputs() and read_vm_context(), the error SPEC whatever module
 * said it: the VM's own inputs. */
static gboolean
read_vm(Call *call, PpStore *store, const PpImages *images, const PpHost *host, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (read_vm_inputs(call, store, images, &local) && read_vm_context(call, store, host, &local))
    return TRUE;
  g_set_error_literal(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_SPEC, local->message);
  return FALSE;
}

void
pp_deployer_deploy_async(PpDeployer *deployer, PpStore *store, const PpImages *images, gint64 vm_id,
                         const PpHost *host, const char *uri, const char *name,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  Call *call;

  g_return_if_fail(deployer != NULL && store != NULL && host != NULL && uri != NULL &&
                   name != NULL);

  call = call_new(deployer, CALL_START, uri, name);
  call->vm_id = vm_id;
  call->managed = !host->prebound;
  task = task_new(call, pp_deployer_deploy_async, callback, user_data);
  if (!read_vm(call, store, images, host, &error)) {
    /* Reported on the next iteration of the main loop, as a call's end. */
    g_task_return_error(task, error);
    return;
  }
  g_task_run_in_thread(task, run_call);
}

gboolean
pp_deployer_deploy_finish(GAsyncResult *result, PpStore *store, GError **error)
{
  Call *call;

  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  call = g_task_get_task_data(G_TASK(result));
  if (store != NULL && call->xml != NULL) {
    g_autoptr(GError) local = NULL;

    if (!pp_store_vm_set_domain_xml(store, call->vm_id, call->xml, &local))
      g_debug("VM %" G_GINT64_FORMAT ": its domain XML is not recorded: %s, ignoring", call->vm_id,
              local->message);
  }
  return g_task_propagate_boolean(G_TASK(result), error);
}

void
pp_deployer_destroy_async(PpDeployer *deployer, const char *uri, const char *name,
                          const char *context_pool, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr(GTask) task = NULL;
  Call *call;

  g_return_if_fail(deployer != NULL && uri != NULL && name != NULL);
  call = call_new(deployer, CALL_DESTROY, uri, name);
  if (context_pool != NULL) {
    call->context_pool = g_strdup(context_pool);
    call->context_volume = context_volume_name(name);
  }
  task = task_new(call, pp_deployer_destroy_async, callback, user_data);
  g_task_run_in_thread(task, run_call);
}

gboolean
pp_deployer_destroy_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

void
pp_deployer_list_async(PpDeployer *deployer, const char *uri, const char *prefix,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(deployer != NULL && uri != NULL && prefix != NULL);
  dispatch(deployer, CALL_LIST, uri, prefix, pp_deployer_list_async, callback, user_data);
}

GPtrArray *
pp_deployer_list_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

void
pp_deployer_set_domain_type(PpDeployer *deployer, const char *type)
{
  Shared *shared = deployer->shared;
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail(type == NULL || strcmp(type, "auto") == 0 || strcmp(type, "kvm") == 0 ||
                   strcmp(type, "qemu") == 0);

  g_mutex_lock(&shared->lock);
  g_free(shared->domain_type);
  shared->domain_type = g_strcmp0(type, "auto") == 0 ? NULL : g_strdup(type);
  /* What the connections chose is chosen again. */
  g_hash_table_iter_init(&iter, shared->conns);
  while (g_hash_table_iter_next(&iter, NULL, &value))
    ((Conn *)value)->kind_known = FALSE;
  g_mutex_unlock(&shared->lock);
}

void
pp_deployer_test_set_capabilities(PpDeployer *deployer, const char *uri, const char *caps)
{
  Shared *shared = deployer->shared;
  Conn *c;

  g_mutex_lock(&shared->lock);
  if (shared->test_caps == NULL)
    shared->test_caps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (caps != NULL)
    g_hash_table_replace(shared->test_caps, g_strdup(uri), g_strdup(caps));
  else
    g_hash_table_remove(shared->test_caps, uri);
  /* What the connection knew is read again. */
  c = g_hash_table_lookup(shared->conns, uri);
  if (c != NULL)
    c->kind_known = FALSE;
  g_mutex_unlock(&shared->lock);
}
