/** Policy files built to be expensive to load (tests and benchmarks). */

/** A "billion laughs" policy of `levels` levels: each a list of nine aliases to the level before (9^levels user IDs once expanded). */
export function laughs(levels: number): string {
  const lines = ['admins: &l0 [U1, U1, U1, U1, U1, U1, U1, U1, U1]', 'workflows:'];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `  w${i}: { approvers: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(', ')}] }`,
    );
  return `${lines.join('\n')}\n`;
}
