#!/usr/bin/env python3
"""Mutation testing of the trust code (docs/reliability.md).

usage: tests/mutation/run.py TREE OUT.jsonl [ID...] [--integ T1,T2] [--no-integ]

TREE is a scratch git worktree, configured and built (never the one you
work in: each mutant is written into its sources, built and reverted).
For each mutant (all of tests/mutation/mutants.py, or the IDs named): the
change is applied, e2mproxyd, e2mua and the unit tests of that file's
layer are built and run, then the integration tests of the layer (or
--integ), each stopped at its first "not ok"; the source is restored. One
JSON line per mutant goes to OUT.jsonl: which tests killed it. Integration
tests run one at a time; set E2M_TEST_PORT_OFFSET to move their ports.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mutants import M  # noqa: E402

UNITS = {
    'src/ua/uachal.c': ['test_uachal', 'test_uamsg', 'test_uatrust'],
    'src/ua/uatrust.c': ['test_uachal', 'test_uamsg', 'test_uatrust'],
    'src/crypto/cms_verify.c': ['test_cms', 'test_cmscache', 'test_challenge',
                                'test_inspect', 'test_uatrust', 'test_cmspath'],
    'src/crypto/cms_keys.c': ['test_cms', 'test_cmspath', 'test_challenge',
                              'test_inspect', 'test_uatrust'],
    'src/e2m/label.c': ['test_label', 'test_inspect'],
    'src/e2m/policy.c': ['test_policy', 'test_inspect'],
}
INTEG = {
    'src/ua/uachal.c': ['t_e2mua_refuse', 't_e2mua'],
    'src/ua/uatrust.c': ['t_e2mua_refuse', 't_e2mua'],
    'src/crypto/cms_verify.c': ['t_e2mua_refuse', 't_policy', 't_inspect'],
    'src/crypto/cms_keys.c': ['t_e2mua_refuse', 't_policy', 't_inspect'],
    'src/e2m/label.c': ['t_policy', 't_inspect'],
    'src/e2m/policy.c': ['t_policy'],
}


def integration(tree, name, log):
    """0 passed, 1 a 'not ok' (stopped there), 2 no plan (crash)."""
    # Not pyenv's exec environment: there the tests' python3 found the
    # system libpython for its ssl module (docs/reliability.md).
    base = {k: v for k, v in os.environ.items() if not k.startswith('PYENV')}
    base['PATH'] = ':'.join(d for d in os.environ.get('PATH', '').split(':')
                            if '/.pyenv/versions/' not in d and
                            '/.pyenv/libexec' not in d and
                            '/.pyenv/plugins/' not in d)
    env = dict(base, TOP_SRCDIR=tree, E2M_BUILDDIR=tree,
               E2MPROXYD=tree + '/e2mproxyd', E2MUA=tree + '/e2mua',
               E2MLOG=tree + '/e2mlog')
    with open(log, 'w') as out:
        p = subprocess.Popen(['bash', 'tests/integration/%s.sh' % name],
                             cwd=tree, env=env, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 900
    while p.poll() is None and time.time() < deadline:
        if '\nnot ok' in '\n' + open(log).read():
            break
        time.sleep(0.5)
    if p.poll() is None:
        # the whole session: the test and what it started
        os.killpg(p.pid, signal.SIGTERM)
        time.sleep(3)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    text = open(log).read()
    if '\nnot ok' in '\n' + text:
        return 1
    return 0 if '\n1..' in '\n' + text else 2


def main():
    tree, outf = os.path.abspath(sys.argv[1]), sys.argv[2]
    args, ids, integ = sys.argv[3:], [], None
    while args:
        a = args.pop(0)
        if a == '--integ':
            integ = args.pop(0).split(',')
        elif a == '--no-integ':
            integ = []
        else:
            ids.append(a)
    logd = os.path.join(tree, '_mutation')
    os.makedirs(logd, exist_ok=True)
    env = dict(os.environ, TOP_SRCDIR=tree, srcdir=tree)
    for mid, f, old, new, desc in M:
        if ids and mid not in ids:
            continue
        path = os.path.join(tree, f)
        src = open(path).read()
        if src.count(old) != 1:
            sys.exit('%s: the original text is not in %s once' % (mid, f))
        res = {'id': mid, 'file': f, 'desc': desc,
               'line': src[:src.index(old)].count('\n') + 1,
               'units': {}, 'integ': {}}
        try:
            open(path, 'w').write(src.replace(old, new))
            units = [u for u in UNITS[f] if os.path.exists(
                os.path.join(tree, 'tests/unit', u + '.c'))]
            b = subprocess.run('make -j2 e2mproxyd e2mua ' + ' '.join(
                'tests/unit/' + u for u in units) + ' > %s/build.log 2>&1'
                % logd, shell=True, cwd=tree)
            if b.returncode != 0:
                res['build'] = 'failed'
            else:
                for u in units:
                    r = subprocess.run('timeout 300 ./tests/unit/%s > %s/%s.%s'
                                       '.log 2>&1' % (u, logd, mid, u),
                                       shell=True, cwd=tree, env=env)
                    res['units'][u] = 'killed' if r.returncode else 'survived'
                for t in (INTEG[f] if integ is None else integ):
                    rc = integration(tree, t, '%s/%s.%s.log' % (logd, mid, t))
                    res['integ'][t] = ['survived', 'killed', 'crashed'][rc]
                    if rc:
                        break
        finally:
            open(path, 'w').write(src)
        with open(outf, 'a') as o:
            o.write(json.dumps(res) + '\n')
        print(json.dumps(res), flush=True)
    # the programs and unit tests as the restored sources make them: none
    # is left built from a mutant
    units = sorted({u for f in UNITS for u in UNITS[f] if os.path.exists(
        os.path.join(tree, 'tests/unit', u + '.c'))})
    subprocess.run('make -j2 e2mproxyd e2mua ' + ' '.join(
        'tests/unit/' + u for u in units) + ' > /dev/null 2>&1', shell=True,
        cwd=tree)


if __name__ == '__main__':
    main()
