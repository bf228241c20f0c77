# the probe as first written (run's threads) and as recorded (one thread), beside two busy processes
mkdir -p /tmp/probe_old
git show 9657a64:gnnbench/harness/speed_probe.py > /tmp/probe_old/probe_at_run_threads.py
for i in 1 2; do python -c 'while 1: pass' & done
PYTHONPATH=/tmp/probe_old python -c "
import torch
from probe_at_run_threads import speed_probe as at_run_threads
from gnnbench.harness.speed_probe import speed_probe
from gnnbench.harness.env import described
cpu = torch.device('cpu')
print(described(cpu), '+ two busy processes')
for t in (1, 2):
    torch.set_num_threads(t)
    print(f'{t} thread(s), at the run\'s threads (9657a64):', [at_run_threads(cpu)['ms'] for _ in range(5)])
    print(f'{t} thread(s), on one thread (as recorded):  ', [speed_probe(cpu)['ms'] for _ in range(5)])
"
kill %1 %2
