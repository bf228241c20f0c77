# The kernel profile's `auto` row as it was before it took its pick's row's figures (commit c0cfb19): the pick
# timed a second time as a row of its own, taking turns beside the others. Its ratio to the chosen row (csr on
# this CPU) with every backend taking turns, against a profile of the csr and auto rows alone, four times each,
# alternating. Run from a checkout's root (a minute or two on a 2-core machine):
#   bash results/reference/profile/auto_row_order.sh > results/reference/profile/auto_row_order.txt
set -e
commit=c0cfb193aabf39ab35d28c14c5e3e8ec994318ce
old=$(mktemp -d)
git worktree add -q --detach "$old" "$commit"
repo=$PWD
trap 'git -C "$repo" worktree remove --force "$old"' EXIT
cd "$old"  # python puts the working directory first on its path: this checkout's code would be imported
OMP_NUM_THREADS=1 PYTHONPATH="$old" python -c "
import statistics, subprocess, torch
from gnnbench.harness.env import described
from gnnbench.kernels import profile as kp
cpu, size, ops = torch.device('cpu'), kp.GraphSize(2000, 20000, 64), ('sum', 'mean', 'gcn')
print(described(cpu), '| profile code at', subprocess.check_output(['git', 'rev-parse', 'HEAD'], text=True).strip())
print(f'auto ms / csr ms on {size.label}, median of 21 after 2 warm-up, ops', ', '.join(ops), 'x both passes')
everything, alone = ('scatter', 'torch_scatter', 'csr', 'auto'), ('csr', 'auto')
ratios = {everything: [], alone: []}
for round_ in range(1, 5):
    for backends in (everything, alone):
        rows = {(r['op'], r['pass'], r['backend']): r for r in kp.profile(
            [size], cpu, ops=ops, backends=backends, warmup=2, repeats=21)}
        cases = [(op, p) for op in ops for p in kp.PASSES if rows[op, p, 'auto']['chosen'] == 'csr']
        found = [rows[op, p, 'auto']['ms'] / rows[op, p, 'csr']['ms'] for op, p in cases]
        ratios[backends] += found
        print(f'round {round_}, {\"+\".join(backends)}:', '; '.join(f'{op} {p} {x:.2f}' for (op, p), x in zip(cases, found)))
for backends, found in ratios.items():
    print(f'{\"+\".join(backends)}: {sum(x < 1 for x in found)} of {len(found)} below 1, median',
          f'{statistics.median(found):.2f}, range {min(found):.2f}-{max(found):.2f}')
"
