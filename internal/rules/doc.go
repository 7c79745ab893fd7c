// Package rules holds kubectl-secure's rule catalogue: one file per family
// of closely related rules and one explicit list, All. docs/rules.md is
// generated from it (Markdown) and a test fails when the two drift.
//
// # Pod Security Standards
//
// The rules tagged pss:baseline and pss:restricted do not re-implement the
// Pod Security Standards: they run the check functions of
// k8s.io/pod-security-admission/policy (DefaultChecks) exactly as the
// module's evaluator does for the target policy version — the configured
// Kubernetes version clamped to the newest the module knows, or the newest
// when unset. pssTable resolves, per version, which VersionedCheck applies
// and which baseline checks a restricted check overrides. Before a check
// runs, the API server's defaulting that manifests omit is applied (a
// volume without a source is an emptyDir).
//
// Each PSA check is a pssControl owned by one or more rules. A rule first
// runs its control's check on the whole pod template; only when the check
// fails does it locate the offending fields. Locating is per container,
// per volume, per sysctl, per capability, per annotation: where the
// allowed values depend on the policy version (capabilities, sysctls,
// SELinux types, AppArmor and seccomp values), the real check is re-run on
// a probe pod holding just that one value, so positions never disagree
// with the verdict. When the check fails and nothing could be pinpointed,
// the control's primary rule reports at the pod spec with PSA's own reason,
// so a violation is never dropped.
//
// Rule IDs partition the controls so that every offending field is
// reported by exactly one PSS rule:
//
//   - baseline: privileged-container; host-network, host-pid, host-ipc;
//     host-path-volume and host-path-sensitive (a hostPath volume is
//     reported once: as host-path-sensitive at hostPath.path, graded by
//     the host-path table (podsecurity.go), when its path is sensitive,
//     else as host-path-volume, lower for a known low-risk path such as
//     /dev/log); host-port; dangerous-capabilities and
//     non-default-capabilities (an added capability outside the baseline
//     set is "dangerous" when it is in Settings.DangerousCapabilities);
//     apparmor-unconfined; proc-mount-unmasked; selinux-custom-options;
//     seccomp-unconfined; unsafe-sysctls; windows-host-process; probe-host.
//   - restricted: allow-privilege-escalation; capabilities-drop-all and
//     restricted-capabilities (an added capability the baseline allows but
//     the restricted profile does not); proc-mount-restricted (Unmasked in a
//     user namespace, allowed by baseline only); restricted-volume-types
//     (other than hostPath, which the baseline rules report);
//     run-as-non-root; run-as-root; seccomp-profile-missing (a pod-level
//     Unconfined profile is reported once, by seccomp-unconfined).
//
// A restricted check that overrides a baseline one (capabilities,
// procMount, volumes, seccomp) therefore reports only what the baseline
// rules do not. Selecting the pss:baseline rules yields exactly what
// `enforce: baseline` rejects; pss:baseline plus pss:restricted exactly what
// `enforce: restricted` rejects. TestPSSFixtures proves it on every
// fixture of the module for every policy version, control by control. One
// quirk of PSA is inherited by design: restricted skips the capability and
// seccomp checks for Windows pods (spec.os.name: windows) although the
// overridden baseline checks would flag them, so a Windows pod adding
// SYS_ADMIN is reported by a pss:baseline rule yet admitted by restricted.
//
// # Beyond the Pod Security Standards
//
// The PodSecurityPolicy controls PSS dropped are separate rules without a
// pss tag, chosen not to report the same field as a PSS rule at the same
// severity: host-path-writable (at the volumeMount), host-pid-ptrace (critical), readonly-root-filesystem,
// run-as-root-group and apparmor-profile-unset. Unset seccomp is the
// restricted seccomp-profile-missing; unset SELinux options are left to the
// runtime's per-container labelling.
//
// # Positions
//
// Rules report manifest paths; the engine resolves them to the key of an
// existing field or, for a missing one, to its nearest existing ancestor
// (the container's "- name:" line, the securityContext that lacks the
// field). Set-level rules (RBAC bindings, namespace coverage, token
// automounting) report at the binding subject, at the Namespace object's
// metadata.name or, for a namespace not in the set, at its first affected
// workload's metadata.name: one finding listing every affected workload,
// leaving out (and never anchored on) workloads whose ignore annotation
// names the rule, so that one workload's annotation never silences the
// others.
//
// # Cost
//
// Per-object checks read the engine's cached decoded workload, never
// decode on their own, and run regular expressions only after a cheap
// substring test; PSA check functions are plain Go over the decoded spec,
// and the probes that pinpoint fields run only on failing pods.
package rules
