/** What a process uses, read from /proc (Linux). */
import { readFileSync } from 'node:fs';

/** CPU time (ms) a process and the children it reaped have used. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: fields 14–17 of stat, 12–15 after the name and state.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Resident memory of a process in bytes (`VmRSS` of /proc/<pid>/status); 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib === undefined ? 0 : Number(kib) * 1024;
  } catch {
    return 0;
  }
}
