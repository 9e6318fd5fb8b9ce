#!/usr/bin/env node
// Static checks of the deployment files, run in every test run (the live container is checked
// by scripts/container-test.sh where a Docker engine can run):
//   seccomp.json  default errno; no dangerous call allowed; clone without namespace flags;
//                 clone3 ENOSYS; socket only for the families cqda uses; and every call that
//                 one of cqda's own per-process filters allows is allowed by the outer wall too,
//                 or that process would break in the container
//   compose.yaml  the hardening settings of docs/DEPLOYMENT.md's CIS table
//   Dockerfile    a pinned base, a scratch runtime stage, a non-root user
//
//   node check_deploy.mjs SOURCE_DIR CQDA_BINARY
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [src, cqda] = process.argv.slice(2);
if (!src || !cqda) {
  console.error('usage: node check_deploy.mjs SOURCE_DIR CQDA_BINARY');
  process.exit(2);
}
let failed = 0;
function check(name, fn) {
  try {
    const detail = fn();
    console.log(`PASS  ${name}${detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${name}: ${e.message}`);
  }
}

const profile = JSON.parse(readFileSync(join(src, 'seccomp.json'), 'utf8'));
const rules = profile.syscalls;
const allowed = new Set(rules.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
const conditional = rules.filter((r) => r.action === 'SCMP_ACT_ALLOW' && r.args);

check('seccomp.json: the default action refuses (errno EPERM)', () => {
  assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(profile.defaultErrnoRet, 1);
  return `${allowed.size} calls allowed outright`;
});

// What a container escape or a kernel attack needs, and what Docker's own default profile
// keeps from unprivileged containers.
const DANGEROUS = ['execveat', 'mount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns', 'ptrace', 'process_vm_readv',
  'process_vm_writev', 'bpf', 'perf_event_open', 'userfaultfd', 'keyctl', 'add_key', 'request_key', 'init_module',
  'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load', 'reboot', 'swapon', 'swapoff', 'open_by_handle_at',
  'name_to_handle_at', 'iopl', 'ioperm', 'acct', 'settimeofday', 'clock_settime', 'adjtimex', 'sethostname',
  'setdomainname', 'quotactl', 'lookup_dcookie', 'fanotify_init', 'personality', 'mknod', 'mknodat', 'fsopen',
  'fsmount', 'move_mount', 'open_tree', 'io_uring_setup', 'setuid', 'setgid', 'setreuid', 'setresuid', 'setgroups'];
check('seccomp.json: no dangerous call is allowed', () => {
  const bad = DANGEROUS.filter((n) => allowed.has(n) || conditional.some((r) => r.names.includes(n)));
  assert.deepEqual(bad, []);
  return `${DANGEROUS.length} checked`;
});

check('seccomp.json: clone only without namespace flags, clone3 answers ENOSYS', () => {
  assert.ok(!allowed.has('clone') && !allowed.has('clone3'), 'clone or clone3 allowed without a condition');
  const clone = conditional.filter((r) => r.names.includes('clone'));
  assert.equal(clone.length, 1);
  const [arg] = clone[0].args;
  assert.equal(arg.op, 'SCMP_CMP_MASKED_EQ');
  assert.equal(arg.index, 0);
  // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET must all be in the mask.
  assert.equal(arg.value & 0x7e020000, 0x7e020000);
  assert.equal(arg.valueTwo, 0);
  const clone3 = rules.find((r) => r.names.includes('clone3'));
  assert.equal(clone3.action, 'SCMP_ACT_ERRNO');
  assert.equal(clone3.errnoRet, 38);
});

check('seccomp.json: socket only for AF_UNIX, AF_INET, AF_INET6 and NETLINK_ROUTE', () => {
  assert.ok(!allowed.has('socket'), 'socket allowed for every family');
  const families = conditional.filter((r) => r.names.includes('socket')).map((r) => {
    assert.equal(r.args[0].index, 0);
    assert.equal(r.args[0].op, 'SCMP_CMP_EQ');
    // Netlink only for NETLINK_ROUTE (protocol 0), what glibc's address queries use.
    if (r.args[0].value === 16) assert.deepEqual(r.args[1], { index: 2, value: 0, op: 'SCMP_CMP_EQ' });
    else assert.equal(r.args.length, 1);
    return r.args[0].value;
  });
  assert.ok(families.length > 0);
  for (const f of families) assert.ok([1, 2, 10, 16].includes(f), `family ${f}`);
  return `families ${families.join(', ')}`;
});

check("seccomp.json: allows every call cqda's own process filters allow", () => {
  const text = execFileSync(cqda, ['sandbox', 'describe'], { encoding: 'utf8' });
  const inner = new Set(text.split('\n').filter((l) => l.startsWith('allow ')).map((l) => l.split(/\s+/)[1]));
  assert.ok(inner.size > 20, `only ${inner.size} calls parsed from cqda sandbox describe`);
  const missing = [...inner].filter((n) => !allowed.has(n) && !conditional.some((r) => r.names.includes(n)));
  assert.deepEqual(missing, []);
  return `${inner.size} calls`;
});

const compose = readFileSync(join(src, 'compose.yaml'), 'utf8');
const service = compose.slice(compose.indexOf('  cqda-mcp:'), compose.indexOf('\n  ollama:'));
check('compose.yaml: the cqda-mcp service is hardened', () => {
  const required = [
    [/^\s+read_only: true$/m, 'read_only: true'],
    [/^\s+cap_drop: \[ALL\]$/m, 'cap_drop: [ALL]'],
    [/^\s+- no-new-privileges:true$/m, 'no-new-privileges'],
    [/^\s+- seccomp=\.\/seccomp\.json$/m, 'seccomp=./seccomp.json'],
    [/^\s+user: "\$\{CQDA_UID:-10001\}:\$\{CQDA_GID:-10001\}"$/m, 'a non-root user'],
    [/^\s+pids_limit: [1-9][0-9]*$/m, 'pids_limit'],
    [/^\s+mem_limit: [1-9][0-9]*[kmg]$/m, 'mem_limit'],
    [/^\s+- "127\.0\.0\.1:8765:8765"$/m, 'the port on 127.0.0.1 only'],
    [/- \/tmp:[^\n]*noexec/, 'a noexec tmpfs for /tmp'],
    [/target: \/data\/input\n\s+read_only: true/, '/data/input read-only'],
    [/^\s+restart: unless-stopped$/m, 'restart: unless-stopped'],
    [/^\s+healthcheck:\n\s+test: \["CMD", "\/usr\/bin\/cqda", "healthcheck"/m, 'a healthcheck without a shell'],
  ];
  const missing = required.filter(([re]) => !re.test(service)).map(([, what]) => what);
  assert.deepEqual(missing, []);
  for (const bad of [/privileged:\s*true/, /docker\.sock/, /network_mode:\s*host/, /pid:\s*host/, /ipc:\s*host/,
    /userns_mode:\s*host/, /devices:/, /cap_add/, /unconfined/, /seccomp[:=]unconfined/])
    assert.ok(!bad.test(service), `found ${bad}`);
  // Every bind mount is read-only; the writable places are the named volumes and the tmpfs.
  const binds = [...service.matchAll(/- type: bind\n((?:\s{8}\S.*\n)+)/g)].map((m) => m[1]);
  assert.ok(binds.length >= 2, 'the input and config bind mounts');
  for (const b of binds) assert.match(b, /read_only: true/, `a writable bind mount: ${b.trim()}`);
  const short = [...service.matchAll(/^\s+- (\S+):(\/\S+?)(:ro)?$/gm)].filter((m) => m[1].startsWith('.') || m[1].startsWith('/'));
  assert.deepEqual(short.filter((m) => !m[3]).map((m) => m[0].trim()), [], 'a writable host path');
  for (const secret of ['openai_api_key', 'signing_key', 'tls_cert', 'tls_key', 'mcp_token'])
    assert.match(service, new RegExp(`^\\s+- ${secret}$`, 'm'), `secret ${secret}`);
  return `${required.length} settings`;
});

check('Dockerfile: pinned base, scratch runtime stage, non-root user, no entrypoint', () => {
  const dockerfile = readFileSync(join(src, 'Dockerfile'), 'utf8');
  const base = dockerfile.match(/^ARG BASE_IMAGE=(\S+)$/m);
  assert.ok(base, 'no ARG BASE_IMAGE');
  assert.match(base[1], /^debian:12\.\d+(-slim)?$/, 'the base is pinned to a Debian 12 point release');
  const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  assert.equal(stages.at(-1), 'scratch');
  assert.match(dockerfile, /^USER \$\{CQDA_UID\}:\$\{CQDA_GID\}$/m);
  assert.match(dockerfile, /^ARG CQDA_UID=10001$/m);
  // Commands name the program (`cqda serve ...`), as the documentation and compose.yaml do.
  assert.ok(!/^ENTRYPOINT/m.test(dockerfile), 'an ENTRYPOINT');
  assert.match(dockerfile, /^CMD \["cqda", /m);
  assert.match(compose, /command:\n\s+- cqda\n\s+- serve\n/);
  assert.ok(!/^ADD\s+https?:/m.test(dockerfile), 'ADD from a URL');
});

check('.dockerignore keeps secrets, build folders and the git history out of the build context', () => {
  const ignore = readFileSync(join(src, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['.git', 'secrets/', 'build*/', 'node_modules/']) assert.ok(ignore.includes(entry), entry);
});

console.log(failed ? `deploy checks: ${failed} failed` : 'deploy checks: all passed');
process.exit(failed ? 1 : 0);
