package gvisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Some sandboxes run on one host CPU (Spec.OneCPU). Programs in a desktop
// sandbox set their own GS segment base with the wrgsbase instruction (the
// desktop template's shim: gVisor refuses arch_prctl(ARCH_SET_GS), see
// google/gvisor#11567), and on the ptrace platform that base lives in the
// host thread that runs them. Some host kernels lose a thread's GS base
// when the thread moves to another CPU: seen on the 6.18 VMs runtools is
// tested on, natively as well as under gVisor, never while the thread
// stays on one CPU. Firefox (ESR 153 and later) sets the base once per
// thread and then relies on it, so a lost base is a crash. A sandbox that
// never moves between CPUs never loses it.

// cpuPins hands out host CPUs to one-CPU sandboxes, each to the CPU the
// fewest of them use.
type cpuPins struct {
	mu   sync.Mutex
	cpus []int          // the host CPUs the daemon may use
	by   map[string]int // sandbox ID -> its CPU
}

func newCPUPins() *cpuPins {
	p := &cpuPins{by: map[string]int{}}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		for cpu := range 1024 {
			if set.IsSet(cpu) {
				p.cpus = append(p.cpus, cpu)
			}
		}
	}
	if len(p.cpus) == 0 {
		p.cpus = []int{0}
	}
	return p
}

// pin returns the CPU of sandbox id, picking one if it has none yet.
func (p *cpuPins) pin(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cpu, ok := p.by[id]; ok {
		return cpu
	}
	use := map[int]int{}
	for _, cpu := range p.by {
		use[cpu]++
	}
	best := p.cpus[0]
	for _, cpu := range p.cpus[1:] {
		if use[cpu] < use[best] {
			best = cpu
		}
	}
	p.by[id] = best
	return best
}

// unpin forgets sandbox id's CPU.
func (p *cpuPins) unpin(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.by, id)
}

// cpusetV1 is where cgroup v1 mounts the cpuset controller.
const cpusetV1 = "/sys/fs/cgroup/cpuset"

// prepareCpuset gives the sandboxes' parent cgroup the CPUs and memory
// nodes of the root under cgroup v1, where a new cgroup starts with none
// and so cannot be given a CPU (EACCES) until its parent has them. runsc
// creates the sandbox's own cgroup below it. Under cgroup v2 an empty
// cpuset means "as the parent", and there is nothing to do.
func prepareCpuset(parent string) error {
	if _, err := os.Stat(filepath.Join(cpusetV1, "cpuset.cpus")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	dir := cpusetV1
	for _, part := range strings.Split(strings.Trim(parent, "/"), "/") {
		up := dir
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("creating cpuset cgroup %s: %w", dir, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if err := inheritCpuset(up, dir, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// inheritCpuset copies file f from cgroup up into its child dir if the
// child's is empty.
func inheritCpuset(up, dir, f string) error {
	own, err := os.ReadFile(filepath.Join(dir, f))
	if err != nil {
		return fmt.Errorf("reading %s: %w", filepath.Join(dir, f), err)
	}
	if strings.TrimSpace(string(own)) != "" {
		return nil
	}
	from, err := os.ReadFile(filepath.Join(up, f))
	if err != nil {
		return fmt.Errorf("reading %s: %w", filepath.Join(up, f), err)
	}
	if err := os.WriteFile(filepath.Join(dir, f), from, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, f), err)
	}
	return nil
}

// cpusFor returns the cpuset of sandbox s: one CPU for a one-CPU sandbox,
// "" (any) for the others.
func (r *Runtime) cpusFor(s Spec) (string, error) {
	if !s.OneCPU {
		return "", nil
	}
	r.cpusetOnce.Do(func() { r.cpusetErr = prepareCpuset(r.cfg.CgroupParent) })
	if r.cpusetErr != nil {
		return "", fmt.Errorf("pinning %s to one CPU: %w", s.ID, r.cpusetErr)
	}
	return strconv.Itoa(r.pins.pin(s.ID)), nil
}
