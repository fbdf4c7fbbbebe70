/* pp-vm-template: a VM template read into what placement and deployment
 * need, every value checked, errors with the line and column of the
 * attribute (OpenNebula's wording where it has one). Pure: no I/O.
 *
 *   NAME = "gpu-job"              optional; 1..64 of [A-Za-z0-9._-]
 *   CPU = 0.5                     physical CPUs reserved on the host (> 0, at most 1024,
 *                                 two decimals); default 1
 *   VCPU = 2                      virtual CPUs of the guest; default CPU rounded up
 *   MEMORY = 1024                 MiB (1..16 TiB); required
 *   DISK = [ IMAGE = "debian12", TARGET = "vda" ]
 *                                 a disk from pcipassd's image folders, by name
 *                                 (pp-image.h: the format is its file's); TARGET
 *                                 default vda, vdb, ...
 *   DISK = [ SOURCE = "/var/lib/images/a.qcow2", FORMAT = "qcow2"|"raw",
 *            TARGET = "vda" ]     a disk file of the host, for administrators
 *                                 only (see below); FORMAT default raw
 *   NIC = [ NETWORK = "public" | NETWORK_ID = 4, NETWORK_UNAME = "alice",
 *           IP = "10.0.0.5", MAC = "02:00:0a:00:00:05", MODEL = "virtio" ]
 *                                 a bridged NIC on a virtual network: NETWORK (a
 *                                 network name, as pp-network.h's) or NETWORK_ID (an
 *                                 id from 1), not both; NETWORK_UNAME, the owner of
 *                                 NETWORK (a user name), only with NETWORK; IP (IPv4)
 *                                 and MAC (unicast, kept lower case) ask for those
 *                                 addresses, else the lease's; MODEL default virtio
 *   NIC = [ BRIDGE = "br0", MODEL = "virtio", MAC = "52:54:00:..." ]
 *                                 a bridged NIC on a host bridge, without a network
 *                                 (BRIDGE is refused beside NETWORK or NETWORK_ID);
 *                                 MAC default libvirt's choice
 *   PCI = [ VENDOR = "10de", DEVICE = "1db4", CLASS = "0302" ]
 *   PCI = [ SHORT_ADDRESS = "3b:00.0" ]
 *                                 a device by ids (any non-empty subset; hex, any case,
 *                                 with or without 0x) or by address, not both;
 *                                 PF_POLICY = "pack" | "spread" (any case): which
 *                                 SR-IOV VFs placement prefers (PpPfPolicy)
 *   PCI = [ TYPE = "NIC", NETWORK = "passthrough" | NETWORK_ID = 4,
 *           NETWORK_UNAME = "oneadmin", IP = "10.0.0.5", MAC = "02:00:...",
 *           VLAN_ID = 100, VENDOR = "8086", CLASS = "0200" ]
 *                                 a passed-through NIC on a virtual network (the
 *                                 guide's "Usage as Network Interfaces"): a device as
 *                                 above, and the network keys of NIC (not MODEL,
 *                                 not BRIDGE). TYPE is "NIC" as the guide writes
 *                                 it, no other value or case; NETWORK or
 *                                 NETWORK_ID is required with it, and every network
 *                                 key without it is refused. VLAN_ID (0..4094) is
 *                                 for administrators only (below); without it the
 *                                 network's VLAN_ID is used
 *   HOST = "node1" | 3            optional: only this host (name or id)
 *   MACHINE = "q35" | "i440fx"    the guest's chipset; default q35
 *   OS = [ KERNEL_IMAGE = "vmlinuz-6.1", INITRD_IMAGE = "initrd-6.1",
 *          KERNEL_CMD = "console=ttyS0" ]
 *                                 direct kernel boot (OpenNebula's OS vector), the
 *                                 kernel and initrd from the image folders;
 *                                 KERNEL = "/path/vmlinuz" and INITRD = "/path/initrd"
 *                                 name files of the host instead (administrators
 *                                 only)
 *   GRAPHICS = [ TYPE = "VNC"|"SPICE", LISTEN = "0.0.0.0", PORT = 5900,
 *                PASSWD = "...", KEYMAP = "en-us" ]
 *                                 a console (OpenNebula's GRAPHICS): LISTEN an IP
 *                                 address (default libvirt's, from qemu.conf); PORT
 *                                 5900..65535, absent or -1 for one libvirt chooses;
 *                                 PASSWD printable ASCII, at most 8 for VNC (RFB's
 *                                 limit, enforced by libvirt), 64 for SPICE, never in
 *                                 a message; one GRAPHICS at most
 *   CONTEXT = [ SSH_PUBLIC_KEY = "ssh-ed25519 AAAA... alice", SET_HOSTNAME = "$NAME",
 *               DB = "$NIC[IP, NETWORK = \"lan\"]", FORMAT = "one" | "nocloud" ]
 *                                 what the VM's context disk holds besides its
 *                                 NICs' variables (issue 13; pp-context.h); at most
 *                                 one. Keys are OpenNebula's context keys, upper
 *                                 case: 1 to 64 of [A-Z0-9_] as written (a lower-case
 *                                 key is refused, not folded), each once, at most
 *                                 256. ETH<n>_* and PCI<n>_* are refused: pcipass
 *                                 writes them from the NICs' leases. FORMAT (any
 *                                 case) chooses the disk and is no variable: "one"
 *                                 (default, context.sh) or "nocloud" (cloud-init's
 *                                 NoCloud), which reads SET_HOSTNAME,
 *                                 SSH_PUBLIC_KEY (one key), USER_DATA and
 *                                 USER_DATA_BASE64 (UTF-8 once decoded) only: any
 *                                 other key is refused. A value is at most 64 KiB,
 *                                 without control characters (a script goes in
 *                                 START_SCRIPT_BASE64). PASSWORD, PASSWORD_BASE64,
 *                                 CRYPTED_PASSWORD and CRYPTED_PASSWORD_BASE64 are
 *                                 secrets, shown "(hidden)" as PASSWD is.
 *
 *                                 A value may hold OpenNebula's substitutions,
 *                                 checked here, resolved when the disk is built:
 *                                   $VMID, $NAME, $UNAME (the owner), $UID
 *                                   $NIC[ATTR]                 NIC 0
 *                                   $NIC[ATTR, NIC_ID = 1]     a NIC by id
 *                                   $NIC[ATTR, NETWORK = "lan" | NETWORK_ID = 4]
 *                                                              the first NIC on it
 *                                   $NETWORK[ATTR, NETWORK = "lan" | NETWORK_ID = 4]
 *                                                              a network a NIC of
 *                                                              the VM is on
 *                                 NIC attributes: MAC, IP, IP6, IP6_GLOBAL,
 *                                 IP6_ULA, NETWORK, NETWORK_ID and every network
 *                                 attribute; network attributes: GATEWAY,
 *                                 GATEWAY6, DNS, MTU, NETWORK_ADDRESS, NETWORK_MASK,
 *                                 SEARCH_DOMAIN, VLAN_ID (one the network does not
 *                                 set reads empty, as OpenNebula's). A network name
 *                                 is quoted or bare; blanks around ',' and '=' are
 *                                 free. "$$" is one '$'; a '$' not followed by an
 *                                 upper-case letter or '$' is itself ("pa$s", "$1");
 *                                 "$" and an upper-case name that is none of the
 *                                 above is refused, where OpenNebula would read it
 *                                 as empty ("$HOME": write $$HOME).
 *
 * Any other attribute, and any other key in these vectors, is refused with
 * its name and position: an attribute that would change the VM is never
 * silently dropped.
 *
 * NICs: NIC vectors and PCI vectors with TYPE = "NIC" are the VM's NICs, at
 * most 64 together, numbered 0, 1, ... over both kinds in the order they
 * appear in the text, as the guide says ("mapped to NICs in the order they
 * appear, regardless of whether or not they're NICs of PCIs"; OpenNebula's
 * code numbers NICs before PCI NICs: pcipass follows the guide). A PCI
 * NIC's PpVmNic.request is the index of its PpPciRequest in the spec's
 * requests, and that request's nic is the NIC id; every other request has
 * nic -1.
 *
 * SOURCE, KERNEL and INITRD name files of the host: the VM would read or
 * write them (the host's disk, its secrets). The parser takes them from
 * anyone; the spec says where the first one is (host_path), and pcipassd
 * refuses it from a user who is not an administrator
 * (pp_vm_spec_check_host_paths()). The VLAN_ID of a PCI NIC is refused
 * from such a user too (pp_vm_spec_check_admin_only()): it puts the VF on
 * any VLAN of its PF's wire; and so is a NIC's BRIDGE without a network,
 * which plugs the VM into any bridge of the host. Images are names, checked here
 * (pp_image_name_check()); pcipassd finds their files (src/server/pp-images).
 */
#pragma once

#include <glib.h>

#include "pp-image.h"
#include "pp-pci-address.h"
#include "pp-placement.h"
#include "pp-template.h"

G_BEGIN_DECLS

#define PP_VM_TEMPLATE_ERROR (pp_vm_template_error_quark())
GQuark pp_vm_template_error_quark(void);

typedef enum {
  PP_VM_TEMPLATE_ERROR_SYNTAX,     /* the template language (line, column) */
  PP_VM_TEMPLATE_ERROR_INVALID,    /* an attribute's value (line, column, attribute) */
  PP_VM_TEMPLATE_ERROR_HOST_PATH,  /* a file of the host, named by one who may not */
  PP_VM_TEMPLATE_ERROR_ADMIN_ONLY, /* a key for administrators, given by one who is not */
} PpVmTemplateError;

typedef enum {
  PP_VM_MACHINE_Q35,
  PP_VM_MACHINE_I440FX,
} PpVmMachine;

typedef struct {
  char *source;        /* the file's path; NULL for an IMAGE until it is resolved */
  char *format;        /* "raw", "qcow2"; NULL for an IMAGE until it is resolved */
  char *target;        /* "vda" */
  char *image;         /* NULL: a SOURCE */
  PpTextPos image_pos; /* where IMAGE is in the text */
} PpVmDisk;

/* A NIC of the VM (issue 12). The spec's nics hold both kinds in template
 * order: a NIC's id is its index there, over NIC and PCI NIC alike (the
 * guide: they "will be mapped to NICs in the order they appear"). */
typedef enum {
  PP_VM_NIC_BRIDGE, /* NIC = [ ... ]: an emulated NIC plugged into a host bridge */
  PP_VM_NIC_PCI,    /* PCI = [ TYPE = "NIC", ... ]: a passed-through NIC */
} PpVmNicKind;

typedef struct {
  PpVmNicKind kind;
  char *bridge;        /* BRIDGE: a bridged NIC without a network; NULL: the network's */
  char *model;         /* bridged: "virtio" (default), "e1000e"; NULL for PCI */
  char *mac;           /* MAC asked for, lower case; NULL: the lease's (or libvirt's, without
                        * a network) */
  char *network;       /* NETWORK: the network by name; NULL: by id, or none */
  gint64 network_id;   /* NETWORK_ID; 0: by name or none. pcipassd sets it when it
                        * resolves a name (pp_store_vm_create_spec() stores the id) */
  char *network_uname; /* NETWORK_UNAME: the network's owner; NULL: the VM owner's or a
                        * shared one */
  char *ip;            /* IP asked for (IPv4, dotted); NULL: any free one */
  gint vlan_id;        /* PCI: VLAN_ID, 0..4094, for administrators only; -1: the network's */
  gint request;        /* PCI: the index of its request in the spec's requests; -1 bridged */
  PpTextPos pos;       /* where the vector is in the text; 0:0 when read from the store */
} PpVmNic;

typedef enum {
  PP_VM_GRAPHICS_NONE,
  PP_VM_GRAPHICS_VNC,
  PP_VM_GRAPHICS_SPICE,
} PpVmGraphicsType;

/* What pcipass shows in place of a password (pp_vm_template_redact_secrets());
 * refused as a PASSWD, so that a template copied from `vm show` never
 * starts a console with it. */
#define PP_VM_TEMPLATE_HIDDEN "(hidden)"

typedef struct {
  PpVmGraphicsType type; /* NONE: no console */
  char *listen;          /* an IP address; NULL: libvirt's default */
  gint port;             /* 5900..65535; -1: libvirt chooses (autoport) */
  char *passwd;          /* NULL: none; a secret, never logged */
  char *keymap;          /* NULL: QEMU's default */
} PpVmGraphics;

/* CONTEXT = [ ... ] (issue 13): what the VM's context disk holds beside
 * its NICs' variables. */
typedef enum {
  PP_VM_CONTEXT_ONE,     /* FORMAT = "one" (default): context.sh on a disk labelled CONTEXT */
  PP_VM_CONTEXT_NOCLOUD, /* FORMAT = "nocloud": cloud-init's NoCloud, labelled cidata */
} PpVmContextFormat;

/* One key of the CONTEXT vector as the template writes it: a name of
 * [A-Z0-9_], its value raw, $NETWORK[...] references left for
 * pp-context to resolve when the leases are known. */
typedef struct {
  char *name;
  char *value;
  PpTextPos pos; /* where the key is in the text; 0:0 when read from the store */
} PpVmContextVar;

typedef struct {
  gboolean present;         /* the template has a CONTEXT vector */
  PpVmContextFormat format; /* FORMAT */
  GPtrArray *vars;          /* PpVmContextVar, template order, FORMAT not among them */
} PpVmContext;

/* One piece of a CONTEXT value (pp_vm_context_value_split()): text as it
 * is, or a substitution. */
typedef enum {
  PP_VM_CONTEXT_PIECE_TEXT,    /* text: the bytes as they are ("$$" read as "$") */
  PP_VM_CONTEXT_PIECE_VMID,    /* $VMID */
  PP_VM_CONTEXT_PIECE_NAME,    /* $NAME */
  PP_VM_CONTEXT_PIECE_UNAME,   /* $UNAME */
  PP_VM_CONTEXT_PIECE_UID,     /* $UID */
  PP_VM_CONTEXT_PIECE_NIC,     /* $NIC[ATTR, ...] */
  PP_VM_CONTEXT_PIECE_NETWORK, /* $NETWORK[ATTR, ...] */
} PpVmContextPieceKind;

/* Which NIC or network a $NIC[...] or $NETWORK[...] names. */
typedef enum {
  PP_VM_CONTEXT_BY_FIRST,      /* $NIC[ATTR]: NIC 0 */
  PP_VM_CONTEXT_BY_NIC_ID,     /* NIC_ID = n (id) */
  PP_VM_CONTEXT_BY_NETWORK,    /* NETWORK = "name" (network) */
  PP_VM_CONTEXT_BY_NETWORK_ID, /* NETWORK_ID = n (id) */
} PpVmContextBy;

typedef struct {
  PpVmContextPieceKind kind;
  char *text;       /* TEXT: the text; else the substitution as written, "$NIC[IP]" */
  const char *attr; /* NIC, NETWORK: the attribute, static ("IP") */
  PpVmContextBy by;
  char *network; /* BY_NETWORK */
  gint64 id;     /* BY_NIC_ID, BY_NETWORK_ID */
} PpVmContextPiece;

/**
 * pp_vm_context_value_split:
 * @value: a CONTEXT value as the template holds it (unquoted)
 *
 * Reads @value's substitutions (the grammar above; what they name is not
 * checked against a template here).
 *
 * Returns: (transfer full) (element-type PpVmContextPiece): the pieces in
 *   order (none for ""), or %NULL with INVALID: "'$NIC[IP' has no ']'".
 */
GPtrArray *pp_vm_context_value_split(const char *value, GError **error);

/* The first key of a template that names a file of the host. */
typedef struct {
  const char *attribute; /* "DISK", "OS"; NULL: the template names none */
  const char *key;       /* "SOURCE", "KERNEL", "INITRD" */
  const char *value;     /* the path, (transfer none) into the spec's template */
  const char *instead;   /* how to say it with an image: "DISK = [ IMAGE = \"NAME\" ]" */
  PpTextPos pos;         /* where the key is in the text */
} PpVmHostPath;

typedef struct {
  char *name; /* NULL when the template has none */
  gint64 cpu; /* hundredths of a CPU */
  guint vcpu;
  guint64 memory_mib;
  GPtrArray *disks; /* PpVmDisk */
  GPtrArray *nics;  /* PpVmNic */
  GArray *requests; /* PpPciRequest; text owned by the spec */
  gint64 host_id;   /* 0: any */
  char *host_name;  /* NULL: any */
  PpVmMachine machine;
  char *kernel; /* NULL: no direct kernel boot, or a KERNEL_IMAGE not resolved yet */
  char *initrd;
  char *kernel_cmd;
  char *kernel_image; /* NULL: none; else kernel is NULL until it is resolved */
  char *initrd_image;
  PpTextPos kernel_image_pos;
  PpTextPos initrd_image_pos;
  PpVmHostPath host_path; /* the first file of the host it names */
  PpVmGraphics graphics;
  PpTemplate *tmpl; /* the template as parsed */
  /* Where the first VLAN_ID of a PCI NIC is (pp_vm_spec_check_admin_only());
   * 0:0 when there is none, or the spec was read from the store. */
  PpTextPos vlan_id_pos;
  PpVmContext context; /* CONTEXT (issue 13); context.vars is never NULL */
} PpVmSpec;

void pp_vm_spec_free(PpVmSpec *spec);

void pp_vm_context_var_free(PpVmContextVar *var);

/* Returns: (transfer full): a spec with the defaults of a template that
 * says nothing (CPU 1, q35, no console, nothing else), to be filled from
 * what the store keeps (pp_store_vm_get_spec()). */
PpVmSpec *pp_vm_spec_new(void);

/* Appends a copy of @request (its text is made from its fields: @request's
 * is not read) to @spec's requests. */
void pp_vm_spec_add_request(PpVmSpec *spec, const PpPciRequest *request);

/* Where a template's error is, for the caller that names the file
 * ("vm.tmpl:3:9: ..."): a position, or the required attribute missing. */
typedef struct {
  PpTextPos pos;       /* 0:0 when the error has no position */
  const char *missing; /* (transfer none) "MEMORY" when it is missing; else NULL */
} PpVmTemplateWhere;

/**
 * pp_vm_template_parse:
 * @text: the template (at most PP_TEMPLATE_MAX_SIZE bytes)
 *
 * Returns: (transfer full): the spec, or %NULL with an error: "line 3,
 *   column 9: PCI: Wrong Hex value for PCI attribute VENDOR: 'xyz'",
 *   "line 3, column 1: PCI: SHORT_ADDRESS cannot be set with DEVICE, VENDOR
 *   or CLASS", "line 4, column 1: attribute 'RAW' is not supported by
 *   pcipass (it reads NAME, ...)", "MEMORY is required (add MEMORY =
 *   <MiB>)". A positioned message starts with "line L, column C: ".
 */
PpVmSpec *pp_vm_template_parse(const char *text, gsize len, GError **error);

/**
 * pp_vm_template_parse_where:
 * @ret_where: (optional): where the error is, written only on failure
 *
 * pp_vm_template_parse(), saying where its error is apart from the
 * message.
 */
PpVmSpec *pp_vm_template_parse_where(const char *text, gsize len, PpVmTemplateWhere *ret_where,
                                     GError **error);

/**
 * pp_vm_template_redact_secrets:
 * @text: a template that parses (as one pcipassd stored)
 *
 * The template as written, but for the value of every PASSWD of GRAPHICS,
 * and of every PASSWORD, PASSWORD_BASE64, CRYPTED_PASSWORD and
 * CRYPTED_PASSWORD_BASE64 of CONTEXT, which reads "(hidden)"
 * (PP_VM_TEMPLATE_HIDDEN): what pcipassd shows of a VM's template.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL when @text does
 *   not parse.
 */
char *pp_vm_template_redact_secrets(const char *text, gsize len);

/**
 * pp_vm_spec_check_host_paths:
 * @ret_pos: (optional): where the key is, written only on failure
 *
 * What pcipassd asks of the template of a user who is not an
 * administrator: that it names no file of the host (DISK's SOURCE, OS's
 * KERNEL and INITRD).
 *
 * Returns: FALSE with HOST_PATH naming the first such key and what to
 *   write instead: "line 3, column 10: DISK: SOURCE '/dev/sda' names a file
 *   of the host, which only an administrator may do; use an image: DISK =
 *   [ IMAGE = "NAME" ] (pcipass image list shows them)".
 */
gboolean pp_vm_spec_check_host_paths(const PpVmSpec *spec, PpTextPos *ret_pos, GError **error);

/**
 * pp_vm_spec_check_admin_only:
 * @ret_pos: (optional): where the key is, written only on failure
 *
 * What pcipassd asks of the template of a user who is not an
 * administrator, besides pp_vm_spec_check_host_paths(): that no NIC names
 * a BRIDGE without a network (any bridge of the host: networks say who
 * may use which), and no PCI NIC sets VLAN_ID, which puts the
 * passed-through NIC on any VLAN of its wire.
 *
 * Returns: FALSE with ADMIN_ONLY naming the first one, bridges first:
 *   "line 4, column 1: NIC: BRIDGE plugs the NIC into a bridge of the host
 *   without a network, which only an administrator may do; use NETWORK =
 *   \"NAME\" (...)", "line 3, column 5: PCI: VLAN_ID sets the VLAN of a
 *   passed-through NIC, which only an administrator may do; leave it out to
 *   use the network's VLAN_ID".
 */
gboolean pp_vm_spec_check_admin_only(const PpVmSpec *spec, PpTextPos *ret_pos, GError **error);

/* The spec as placement's input; borrows from @spec. */
void pp_vm_spec_to_place_vm(const PpVmSpec *spec, gint64 vm_id, PpPlaceVm *ret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVmSpec, pp_vm_spec_free)

G_END_DECLS
