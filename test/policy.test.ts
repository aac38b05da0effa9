import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  announcementChannels,
  announcementFor,
  answerersFor,
  canAnswer,
  canCancel,
  canStart,
  canView,
  deadlineRulesFor,
  policyGroups,
  quorumRules,
  requesterAllowed,
  viewersFor,
  workflowPolicyFor,
} from '../src/policy/decide.ts';
import { defaultPolicy, loadPolicy, PolicyError, parsePolicy, withAdmins } from '../src/policy/load.ts';
import type { Policy } from '../src/policy/types.ts';
import { laughs } from './support/hostile-policy.ts';

function policyError(text: string, source = 'policy.yaml'): PolicyError {
  try {
    parsePolicy(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return error as PolicyError;
  }
  throw new Error('parsePolicy did not throw');
}

const FULL_YAML = `
admins: [U0ADMIN]
workflows:
  approvalWorkflow:
    start: [U1, S0GROUP]
    cancel: [U2]
    approvers: [U3, S0LEADS, U1]
    allowSelfApproval: false
    steps:
      approve:
        approvers: [U4, U1]
        allowSelfApproval: true
      inner.inner-approve:
        approvers: [U5]
      inner-approve:
        approvers: [U6]
  selfOk:
    approvers: [U1, U3]
    allowSelfApproval: true
    steps:
      strict:
        allowSelfApproval: false
  closed:
    start: []
    approvers: []
  open: {}
  "*":
    start: [S0ENG]
    approvers: [U9]
`;

const wf = (workflowKey: string, workflowId = `${workflowKey}-id`) => ({ workflowKey, workflowId });

describe('parsePolicy', () => {
  test('YAML: the full shape', () => {
    const policy = parsePolicy(FULL_YAML, 'policy.yaml');
    expect(policy.source).toBe('policy.yaml');
    expect(policy.admins).toEqual(['U0ADMIN']);
    expect([...policy.workflows.keys()]).toEqual(['approvalworkflow', 'selfok', 'closed', 'open', '*']);
    const approval = policy.workflows.get('approvalworkflow')!;
    expect(approval.name).toBe('approvalWorkflow');
    expect(approval.start).toEqual(['U1', 'S0GROUP']);
    expect(approval.cancel).toEqual(['U2']);
    expect(approval.approvers).toEqual(['U3', 'S0LEADS', 'U1']);
    expect(approval.allowSelfApproval).toBe(false);
    expect(Object.fromEntries(approval.steps)).toEqual({
      approve: { approvers: ['U4', 'U1'], allowSelfApproval: true },
      'inner.inner-approve': { approvers: ['U5'] },
      'inner-approve': { approvers: ['U6'] },
    });
    const open = policy.workflows.get('open')!;
    expect(open.start).toBeUndefined();
    expect(open.approvers).toBeUndefined();
    expect(policy.workflows.get('closed')!.start).toEqual([]);
  });

  test('JSON parses to the same policy', () => {
    const json = JSON.stringify(
      {
        admins: ['U0ADMIN'],
        workflows: {
          approvalWorkflow: {
            start: ['U1', 'S0GROUP'],
            cancel: ['U2'],
            approvers: ['U3', 'S0LEADS', 'U1'],
            allowSelfApproval: false,
            steps: {
              approve: { approvers: ['U4', 'U1'], allowSelfApproval: true },
              'inner.inner-approve': { approvers: ['U5'] },
              'inner-approve': { approvers: ['U6'] },
            },
          },
          selfOk: {
            approvers: ['U1', 'U3'],
            allowSelfApproval: true,
            steps: { strict: { allowSelfApproval: false } },
          },
          closed: { start: [], approvers: [] },
          open: {},
          '*': { start: ['S0ENG'], approvers: ['U9'] },
        },
      },
      null,
      '\t',
    );
    const fromJson = parsePolicy(json, 'policy.json');
    const fromYaml = parsePolicy(FULL_YAML, 'policy.json');
    expect(fromJson).toEqual(fromYaml);
  });

  test('empty documents and null sections are the default policy', () => {
    for (const text of ['', '# nothing\n', 'workflows:\n', '{}']) {
      const policy = parsePolicy(text, 'p.yaml');
      expect(policy.admins).toEqual([]);
      expect(policy.workflows.size).toBe(0);
    }
    const nulls = parsePolicy('workflows:\n  a:\n  b:\n    steps:\n      s:\n', 'p.yaml');
    expect(nulls.workflows.get('a')).toEqual({ name: 'a', steps: new Map() });
    expect(nulls.workflows.get('b')!.steps.get('s')).toEqual({});
  });

  test('duplicate IDs in a list are kept once', () => {
    expect(parsePolicy('admins: [U1, U1, S1X]', 'p').admins).toEqual(['U1', 'S1X']);
  });

  test('YAML aliases are followed', () => {
    const policy = parsePolicy('admins: &leads [U7, S0LEADS]\nworkflows:\n  a: { approvers: *leads }\n', 'p');
    expect(policy.workflows.get('a')!.approvers).toEqual(['U7', 'S0LEADS']);
  });

  test('a list reused twice through an alias', () => {
    const policy = parsePolicy(
      'admins: &leads [U7, S0LEADS]\nworkflows:\n  a: { approvers: *leads }\n  b: { cancel: *leads }\n',
      'p',
    );
    expect(policy.workflows.get('a')!.approvers).toEqual(['U7', 'S0LEADS']);
    expect(policy.workflows.get('b')!.cancel).toEqual(['U7', 'S0LEADS']);
  });
});

/** The error's problems, or a failure when `fn` does not throw a PolicyError. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
  throw new Error('no PolicyError');
}

describe('aliases and size are bounded', () => {
  test("a file whose aliases multiply is refused at its first alias, by the YAML library's own limit", () => {
    expect(problemsOf(() => parsePolicy(laughs(8), 'p.yaml'))).toEqual([
      'p.yaml:3:25: the aliases (*name) expand too much (Excessive alias count indicates a resource exhaustion ' +
        'attack): write the values out, or use fewer and less nested aliases',
    ]);
  });

  test('one long list aliased many times is refused at the alias that passes 10,000 values', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `U${i}`).join(', ');
    const lines = [`admins: &all [${ids}]`, 'workflows:'];
    for (let i = 0; i < 30; i++) lines.push(`  w${i}: { approvers: *all }`);
    expect(problemsOf(() => parsePolicy(`${lines.join('\n')}\n`, 'p.yaml'))).toEqual([
      'p.yaml:22:21: workflows.w19.approvers[480]: the aliases (*name) expand to more than 10,000 values: ' +
        'write the values out, or use fewer and less nested aliases',
    ]);
  });

  test('more than 100 aliases are refused at the 101st', () => {
    const lines = ['admins: &a [U1]', 'workflows:'];
    for (let i = 0; i < 101; i++) lines.push(`  w${i}: { approvers: *a }`);
    expect(problemsOf(() => parsePolicy(`${lines.join('\n')}\n`, 'p.yaml'))).toEqual([
      'p.yaml:103:22: more than 100 aliases (*name): write the values out, or use fewer and less nested aliases',
    ]);
  });

  test('an alias without an anchor before it is named', () => {
    expect(
      problemsOf(() => parsePolicy('admins: &a [U1]\nworkflows:\n  a: { approvers: *b }\n', 'p.yaml')),
    ).toEqual(['p.yaml:3:19: *b: no anchor &b before this alias']);
  });

  test('a file over 1 MiB is refused before it is parsed', () => {
    const text = `admins: [U1]\n${'#'.repeat(1024 * 1024)}\n`;
    expect(problemsOf(() => parsePolicy(text, 'p.yaml'))).toEqual([
      'p.yaml: the policy file is 1.0 MiB; a policy file may be at most 1 MiB',
    ]);
  });
});

describe('parsePolicy errors', () => {
  test('every problem at once, each with file:line:col, key path and what was expected', () => {
    const error = policyError(
      [
        'admins: [U0OK, bob]', //                           1
        'extra: 1', //                                       2
        'workflows:', //                                     3
        '  approvalWorkflow:', //                            4
        '    start: U1', //                                  5
        '    cancel: [u2lower]', //                          6
        '    approver: [U3]', //                             7
        '    allowSelfApproval: "no"', //                    8
        '    steps:', //                                     9
        '      approve:', //                                10
        '        approvers: ["@carol", 12]', //             11
        '        allowSelfApproval: 1', //                  12
        '        extraStepKey: true', //                    13
        '      inner..x: {}', //                            14
        '      "*": [U1]', //                               15
        '  ApprovalWorkflow: {}', //                        16
        '  "*": [U1]', //                                   17
        '  other: { steps: [a] }', //                       18
      ].join('\n'),
      'config/policy.yaml',
    );
    expect(error.source).toBe('config/policy.yaml');
    expect(error.problems).toEqual([
      'config/policy.yaml:1:16: admins[1]: expected a Slack user ID (U…/W…) or user-group ID (S…), e.g. U0123ABCD, got "bob"',
      'config/policy.yaml:2:1: extra: unknown key: expected one of admins, requesters, liveRunsPerPerson, workflows',
      'config/policy.yaml:5:12: workflows.approvalWorkflow.start: expected a list of Slack user IDs (U…/W…) or user-group IDs (S…), e.g. [U0123ABCD, S0456EFGH], got "U1"',
      'config/policy.yaml:6:14: workflows.approvalWorkflow.cancel[0]: expected a Slack user ID (U…/W…) or user-group ID (S…), e.g. U0123ABCD, got "u2lower" (Slack IDs are upper-case)',
      'config/policy.yaml:7:5: workflows.approvalWorkflow.approver: unknown key: expected one of start, cancel, approvers, allowSelfApproval, channel, announce, view, steps, remindEvery, escalateAfter, escalateTo, timeoutAfter, onTimeout, required',
      'config/policy.yaml:8:24: workflows.approvalWorkflow.allowSelfApproval: expected true or false, got "no"',
      'config/policy.yaml:11:21: workflows.approvalWorkflow.steps.approve.approvers[0]: expected a Slack user ID (U…/W…) or user-group ID (S…), e.g. U0123ABCD, got "@carol" (use the member ID, not a name or mention)',
      'config/policy.yaml:11:31: workflows.approvalWorkflow.steps.approve.approvers[1]: expected a Slack user ID (U…/W…) or user-group ID (S…), e.g. U0123ABCD, got 12',
      'config/policy.yaml:12:28: workflows.approvalWorkflow.steps.approve.allowSelfApproval: expected true or false, got 1',
      'config/policy.yaml:13:9: workflows.approvalWorkflow.steps.approve.extraStepKey: unknown key: expected one of approvers, allowSelfApproval, remindEvery, escalateAfter, escalateTo, timeoutAfter, onTimeout, required',
      'config/policy.yaml:14:7: workflows.approvalWorkflow.steps["inner..x"]: expected a step id or dotted step path such as "inner.approve" (empty segment)',
      'config/policy.yaml:15:12: workflows.approvalWorkflow.steps["*"]: expected a mapping with the keys approvers, allowSelfApproval, remindEvery, escalateAfter, escalateTo, timeoutAfter, onTimeout, required, got a list',
      'config/policy.yaml:16:3: workflows.ApprovalWorkflow: duplicates workflows.approvalWorkflow (workflow names are matched case-insensitively)',
      'config/policy.yaml:17:8: workflows["*"]: expected a mapping with the keys start, cancel, approvers, allowSelfApproval, channel, announce, view, steps, remindEvery, escalateAfter, escalateTo, timeoutAfter, onTimeout, required, got a list',
      'config/policy.yaml:18:19: workflows.other.steps: expected a mapping from step ids or dotted step paths to rules, got a list',
    ]);
    expect(error.message.split('\n')[0]).toBe('Invalid policy file config/policy.yaml (15 problems):');
    for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
  });

  test('top level must be a mapping', () => {
    expect(policyError('[U1]').problems).toEqual([
      'policy.yaml:1:1: (top level): expected a mapping with the keys admins, requesters, liveRunsPerPerson, workflows, got a list',
    ]);
    expect(policyError('"just text"').problems).toEqual([
      'policy.yaml:1:1: (top level): expected a mapping with the keys admins, requesters, liveRunsPerPerson, workflows, got "just text"',
    ]);
  });

  test('workflows must be a mapping, admins a list', () => {
    expect(policyError('workflows: [a, b]\nadmins: U1').problems).toEqual([
      'policy.yaml:1:12: workflows: expected a mapping from workflow names to rules, got a list',
      'policy.yaml:2:9: admins: expected a list of Slack user IDs (U…/W…) or user-group IDs (S…), e.g. [U0123ABCD, S0456EFGH], got "U1"',
    ]);
  });

  test('a workflow rule must be a mapping; a missing list value says "nothing"', () => {
    expect(policyError('workflows:\n  a: yes\n  b:\n    start:\n').problems).toEqual([
      'policy.yaml:2:6: workflows.a: expected a mapping with the keys start, cancel, approvers, allowSelfApproval, channel, announce, view, steps, remindEvery, escalateAfter, escalateTo, timeoutAfter, onTimeout, required, got "yes"',
      'policy.yaml:4:5: workflows.b.start: expected a list of Slack user IDs (U…/W…) or user-group IDs (S…), e.g. [U0123ABCD, S0456EFGH], got nothing',
    ]);
  });

  test('non-string keys are refused', () => {
    expect(policyError('workflows:\n  123: {}\n').problems).toEqual([
      'policy.yaml:2:3: workflows: expected keys to be non-empty names, got 123',
    ]);
  });

  test('syntax errors: YAML', () => {
    const error = policyError('workflows:\n  a: {start: [U1]\n', 'bad.yaml');
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]).toMatch(/^bad\.yaml:\d+:\d+: .*\(the file is not valid YAML or JSON\)$/);
  });

  test('syntax errors: duplicate keys', () => {
    expect(policyError('admins: [U1]\nadmins: [U2]\n').problems).toEqual([
      expect.stringMatching(/^policy\.yaml:2:1: Map keys must be unique.*not valid YAML or JSON/),
    ]);
  });

  test('syntax errors: JSON', () => {
    const error = policyError('{\n  "admins": ["U1",\n', 'policy.json');
    expect(error.problems[0]).toMatch(/^policy\.json:\d+:\d+: /);
  });
});

describe('loadPolicy', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-policy-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('no path: the default policy, with the given admins', () => {
    expect(loadPolicy()).toEqual(defaultPolicy());
    expect(loadPolicy(undefined, { admins: ['U0ADM'] })).toEqual({
      source: null,
      admins: ['U0ADM'],
      workflows: new Map(),
    });
    expect(loadPolicy('  ').source).toBeNull();
  });

  test('reads YAML and JSON files and merges config admins with the file', () => {
    const yamlPath = join(dir, 'policy.yaml');
    writeFileSync(yamlPath, 'admins: [U0FILE, U0BOTH]\nworkflows:\n  a: { start: [U1] }\n');
    const policy = loadPolicy(yamlPath, { admins: ['U0BOTH', 'U0CONF'] });
    expect(policy.source).toBe(yamlPath);
    expect(policy.admins).toEqual(['U0FILE', 'U0BOTH', 'U0CONF']);
    expect(policy.workflows.get('a')!.start).toEqual(['U1']);

    const jsonPath = join(dir, 'policy.json');
    writeFileSync(jsonPath, '{"workflows": {"a": {"start": ["U1"]}}}');
    expect(loadPolicy(jsonPath).workflows.get('a')!.start).toEqual(['U1']);
  });

  test('file errors name the file', () => {
    const badPath = join(dir, 'bad.yaml');
    writeFileSync(badPath, 'workflows:\n  a: { start: [nope] }\n');
    expect(() => loadPolicy(badPath)).toThrow(
      `${badPath}:2:16: workflows.a.start[0]: expected a Slack user ID (U…/W…) or user-group ID (S…), e.g. U0123ABCD, got "nope"`,
    );
  });

  test('a file over 1 MiB is refused by its size, naming the path', () => {
    const bigPath = join(dir, 'big.yaml');
    writeFileSync(bigPath, `admins: [U1]\n${'# padding\n'.repeat(200_000)}`);
    expect(problemsOf(() => loadPolicy(bigPath))).toEqual([
      `${bigPath}: the policy file is 1.9 MiB; a policy file may be at most 1 MiB`,
    ]);
  });

  test('a missing file or a directory is a PolicyError naming the path', () => {
    const missing = join(dir, 'missing.yaml');
    expect(() => loadPolicy(missing)).toThrow(PolicyError);
    expect(() => loadPolicy(missing)).toThrow(`${missing}: file not found: expected a readable policy file`);
    expect(() => loadPolicy(dir)).toThrow(`${dir}: this is a directory`);
  });

  test('policy.example.yaml at the repo root is valid and means what it says', () => {
    const path = join(import.meta.dirname, '..', 'policy.example.yaml');
    expect(readFileSync(path, 'utf8')).toContain('allowSelfApproval');
    const policy = loadPolicy(path);
    expect(policy.admins).toEqual(['U0ADMIN01']);
    expect(policy.requesters).toEqual({ userIds: true, emailDomains: ['example.com'] });
    const approval = { workflowKey: 'approvalWorkflow', workflowId: 'approval-workflow' };
    expect(canStart(policy, { ...approval, userId: 'U0ALICE01', userGroups: [] }).allowed).toBe(true);
    expect(canStart(policy, { ...approval, userId: 'U0OTHER', userGroups: ['S0FINANCE'] }).allowed).toBe(
      true,
    );
    expect(canStart(policy, { ...approval, userId: 'U0OTHER', userGroups: [] }).allowed).toBe(false);
    expect(answerersFor(policy, { ...approval, stepPath: ['approve'], starterId: 'U0ALICE01' })).toEqual({
      kind: 'approvers',
      users: ['U0DAVE001'],
      groups: [],
      starterRefused: true,
    });
    const other = { workflowKey: 'unlisted', workflowId: 'unlisted' };
    expect(canStart(policy, { ...other, userId: 'U0X', userGroups: ['S0ENGINEER'] }).allowed).toBe(true);
    expect(canStart(policy, { ...other, userId: 'U0X', userGroups: [] }).allowed).toBe(false);
  });
});

describe('decisions', () => {
  const policy = parsePolicy(FULL_YAML, 'policy.yaml');

  describe('workflow lookup', () => {
    test('matches the registry key or the workflow id, case-insensitively; key first', () => {
      expect(workflowPolicyFor(policy, wf('APPROVALWORKFLOW'))?.name).toBe('approvalWorkflow');
      expect(
        workflowPolicyFor(policy, { workflowKey: 'registryKey', workflowId: 'ApprovalWorkflow' })?.name,
      ).toBe('approvalWorkflow');
      expect(workflowPolicyFor(policy, { workflowKey: 'open', workflowId: 'approvalWorkflow' })?.name).toBe(
        'open',
      );
    });

    test('falls back to "*", then to nothing', () => {
      expect(workflowPolicyFor(policy, wf('unlisted'))?.name).toBe('*');
      const noStar = parsePolicy('workflows:\n  a: {}\n', 'p');
      expect(workflowPolicyFor(noStar, wf('b'))).toBeUndefined();
    });
  });

  describe('canStart', () => {
    test('listed users and group members may start; others are told why', () => {
      const ref = wf('approvalWorkflow');
      expect(canStart(policy, { ...ref, userId: 'U1', userGroups: [] })).toEqual({ allowed: true });
      expect(canStart(policy, { ...ref, userId: 'U7', userGroups: ['S0OTHER', 'S0GROUP'] })).toEqual({
        allowed: true,
      });
      expect(canStart(policy, { ...ref, userId: 'U7', userGroups: ['S0OTHER'] })).toEqual({
        allowed: false,
        reason: 'You are not allowed to start approvalWorkflow: the policy limits who may start it.',
      });
    });

    test('case-insensitive match on the workflow id applies the rules', () => {
      const ref = { workflowKey: 'k', workflowId: 'APPROVALworkflow' };
      expect(canStart(policy, { ...ref, userId: 'U7', userGroups: [] }).allowed).toBe(false);
      expect(canStart(policy, { ...ref, userId: 'U1', userGroups: [] }).allowed).toBe(true);
    });

    test('omitted start = anyone', () => {
      expect(canStart(policy, { ...wf('open'), userId: 'U7', userGroups: [] })).toEqual({ allowed: true });
      expect(canStart(policy, { ...wf('selfOk'), userId: 'U7', userGroups: [] })).toEqual({ allowed: true });
    });

    test('start: [] = nobody, admins included', () => {
      expect(canStart(policy, { ...wf('closed'), userId: 'U0ADMIN', userGroups: [] })).toEqual({
        allowed: false,
        reason: 'Nobody may start closed from Slack.',
      });
    });

    test('"*" applies to unlisted workflows only', () => {
      expect(canStart(policy, { ...wf('unlisted'), userId: 'U7', userGroups: [] }).allowed).toBe(false);
      expect(canStart(policy, { ...wf('unlisted'), userId: 'U7', userGroups: ['S0ENG'] }).allowed).toBe(true);
      // a listed workflow without `start` does not inherit "*"'s start list
      expect(canStart(policy, { ...wf('open'), userId: 'U7', userGroups: [] }).allowed).toBe(true);
    });

    test('the reason names the workflow by key, or by id when the key is empty', () => {
      const decision = canStart(policy, {
        workflowKey: '',
        workflowId: 'someId',
        userId: 'U7',
        userGroups: [],
      });
      expect(decision).toEqual({
        allowed: false,
        reason: 'You are not allowed to start someId: the policy limits who may start it.',
      });
    });
  });

  describe('canCancel', () => {
    const base = {
      ...wf('approvalWorkflow'),
      userGroups: [] as string[],
      starterId: 'U8',
    };

    test('the starter may cancel', () => {
      expect(canCancel(policy, { ...base, userId: 'U8' })).toEqual({ allowed: true });
    });

    test('file admins, config admins and admin groups may cancel any run', () => {
      expect(canCancel(policy, { ...base, userId: 'U0ADMIN' }).allowed).toBe(true);
      expect(canCancel(withAdmins(policy, ['U0CONF']), { ...base, userId: 'U0CONF' }).allowed).toBe(true);
      const groupAdmins = parsePolicy('admins: [S0OPS]', 'p');
      expect(canCancel(groupAdmins, { ...base, userId: 'U7', userGroups: ['S0OPS'] }).allowed).toBe(true);
      expect(canCancel(withAdmins(defaultPolicy(), ['U0W']), { ...base, userId: 'U0W' }).allowed).toBe(true);
    });

    test('listed cancelers (users or groups) may cancel', () => {
      expect(canCancel(policy, { ...base, userId: 'U2' }).allowed).toBe(true);
      const groups = parsePolicy('workflows:\n  a: { cancel: [S0CAN] }\n', 'p');
      expect(canCancel(groups, { ...base, ...wf('a'), userId: 'U7', userGroups: ['S0CAN'] }).allowed).toBe(
        true,
      );
    });

    test('everyone else is refused with the list of who may', () => {
      expect(canCancel(policy, { ...base, userId: 'U7' })).toEqual({
        allowed: false,
        reason:
          'Only the person who started it, the people the policy allows to cancel approvalWorkflow and admins may cancel this run.',
      });
      expect(canCancel(policy, { ...base, ...wf('open'), userId: 'U7' })).toEqual({
        allowed: false,
        reason: 'Only the person who started it and admins may cancel this run.',
      });
    });

    test('runs started outside Slack: admins and cancelers only', () => {
      expect(canCancel(policy, { ...base, starterId: null, userId: 'U2' }).allowed).toBe(true);
      expect(canCancel(policy, { ...base, starterId: null, userId: 'U0ADMIN' }).allowed).toBe(true);
      expect(canCancel(policy, { ...base, ...wf('open'), starterId: null, userId: 'U7' })).toEqual({
        allowed: false,
        reason: 'This run was started outside Slack: only admins may cancel it.',
      });
    });

    test('default policy: starter and admins only', () => {
      const def = defaultPolicy();
      expect(canCancel(def, { ...base, userId: 'U8' }).allowed).toBe(true);
      expect(canCancel(withAdmins(def, ['U0A']), { ...base, userId: 'U0A' }).allowed).toBe(true);
      expect(canCancel(def, { ...base, userId: 'U7' }).allowed).toBe(false);
    });
  });

  describe('canAnswer', () => {
    const answer = (over: {
      workflowKey?: string;
      stepPath?: string[];
      userId: string;
      userGroups?: string[];
      starterId?: string | null;
      admins?: string[];
      policy?: Policy;
    }) =>
      canAnswer(withAdmins(over.policy ?? policy, over.admins ?? []), {
        ...wf(over.workflowKey ?? 'approvalWorkflow'),
        stepPath: over.stepPath ?? ['review'],
        userId: over.userId,
        userGroups: over.userGroups ?? [],
        starterId: over.starterId === undefined ? 'U8' : over.starterId,
      });

    test('workflow approvers (users and groups) may answer; others are not approvers', () => {
      expect(answer({ userId: 'U3' })).toEqual({ allowed: true });
      expect(answer({ userId: 'U7', userGroups: ['S0LEADS'] })).toEqual({ allowed: true });
      expect(answer({ userId: 'U7' })).toEqual({
        allowed: false,
        reason: 'You are not an approver for step review.',
      });
    });

    test('admins follow the approvers list too', () => {
      expect(answer({ userId: 'U0ADMIN' }).allowed).toBe(false);
      expect(answer({ userId: 'U0C', admins: ['U0C'] }).allowed).toBe(false);
    });

    test('self-approval is refused by default, even for a listed starter', () => {
      expect(answer({ userId: 'U1', starterId: 'U1' })).toEqual({
        allowed: false,
        reason: 'You started this run, and this workflow does not allow approving your own run.',
      });
      expect(answer({ userId: 'U1', starterId: 'U8' }).allowed).toBe(true);
      // a starter reaching the list through a group is refused as well
      expect(answer({ userId: 'U7', userGroups: ['S0LEADS'], starterId: 'U7' }).allowed).toBe(false);
    });

    test('allowSelfApproval: true lets a listed starter answer, but not an unlisted one', () => {
      expect(answer({ workflowKey: 'selfOk', userId: 'U1', starterId: 'U1' }).allowed).toBe(true);
      expect(answer({ workflowKey: 'selfOk', userId: 'U7', starterId: 'U7' })).toEqual({
        allowed: false,
        reason: 'You are not an approver for step review.',
      });
    });

    test('a step override of allowSelfApproval says so', () => {
      expect(answer({ workflowKey: 'selfOk', stepPath: ['strict'], userId: 'U1', starterId: 'U1' })).toEqual({
        allowed: false,
        reason: 'You started this run, and step strict does not allow approving your own run.',
      });
      expect(
        answer({ workflowKey: 'selfOk', stepPath: ['strict'], userId: 'U3', starterId: 'U1' }).allowed,
      ).toBe(true);
    });

    test('step overrides replace the approvers and allowSelfApproval', () => {
      expect(answer({ stepPath: ['approve'], userId: 'U4' }).allowed).toBe(true);
      expect(answer({ stepPath: ['approve'], userId: 'U3' })).toEqual({
        allowed: false,
        reason: 'You are not an approver for step approve.',
      });
      // allowSelfApproval: true on the step
      expect(answer({ stepPath: ['approve'], userId: 'U1', starterId: 'U1' }).allowed).toBe(true);
    });

    test('a full dotted path wins over the step id; the step id matches nested steps', () => {
      expect(answer({ stepPath: ['inner', 'inner-approve'], userId: 'U5' }).allowed).toBe(true);
      expect(answer({ stepPath: ['inner', 'inner-approve'], userId: 'U6' })).toEqual({
        allowed: false,
        reason: 'You are not an approver for step inner › inner-approve.',
      });
      expect(answer({ stepPath: ['other', 'inner-approve'], userId: 'U6' }).allowed).toBe(true);
      expect(answer({ stepPath: ['other', 'inner-approve'], userId: 'U5' }).allowed).toBe(false);
    });

    test('a step override inherits allowSelfApproval from the workflow when not given', () => {
      // U5 is the step's only approver: as the starter, nobody is left to answer.
      expect(answer({ stepPath: ['inner', 'inner-approve'], userId: 'U5', starterId: 'U5' })).toMatchObject({
        allowed: false,
        reason: expect.stringContaining('does not allow approving your own run'),
      });
      expect(answer({ stepPath: ['review'], userId: 'U3', starterId: 'U3' })).toEqual({
        allowed: false,
        reason: 'You started this run, and this workflow does not allow approving your own run.',
      });
    });

    test('no approvers configured: the starter is the approver', () => {
      expect(answer({ workflowKey: 'open', userId: 'U8' })).toEqual({ allowed: true });
      expect(answer({ workflowKey: 'open', userId: 'U7' })).toEqual({
        allowed: false,
        reason: 'Only the person who started this run may answer step review.',
      });
      expect(answer({ workflowKey: 'open', userId: 'U0ADMIN' }).allowed).toBe(false);
    });

    test('no approvers and started outside Slack: only admins, and the reason says so', () => {
      expect(answer({ workflowKey: 'open', starterId: null, userId: 'U0ADMIN' }).allowed).toBe(true);
      expect(answer({ workflowKey: 'open', starterId: null, userId: 'U0C', admins: ['U0C'] }).allowed).toBe(
        true,
      );
      expect(answer({ workflowKey: 'open', starterId: null, userId: 'U7' })).toEqual({
        allowed: false,
        reason:
          'This run was started outside Slack and no approvers are configured for step review, so only admins may answer it.',
      });
    });

    test('approvers configured and started outside Slack: approvers answer as usual', () => {
      expect(answer({ starterId: null, userId: 'U1' }).allowed).toBe(true);
      expect(answer({ starterId: null, userId: 'U0ADMIN' }).allowed).toBe(false);
    });

    test('approvers: [] = nobody may answer', () => {
      expect(answer({ workflowKey: 'closed', userId: 'U8' })).toEqual({
        allowed: false,
        reason:
          'The policy says nobody may answer step review of closed from Slack (its approvers list is empty).',
      });
    });

    test('"*" approvers apply to unlisted workflows', () => {
      expect(answer({ workflowKey: 'unlisted', userId: 'U9' }).allowed).toBe(true);
      expect(answer({ workflowKey: 'unlisted', userId: 'U8' }).allowed).toBe(false);
    });

    test('default policy: the starter answers; without a starter, admins', () => {
      const def = defaultPolicy(['U0A']);
      expect(answer({ policy: def, userId: 'U8' }).allowed).toBe(true);
      expect(answer({ policy: def, userId: 'U7' }).allowed).toBe(false);
      expect(answer({ policy: def, userId: 'U0A' }).allowed).toBe(false);
      expect(answer({ policy: def, starterId: null, userId: 'U0A' }).allowed).toBe(true);
      expect(answer({ policy: def, starterId: null, userId: 'U7' }).allowed).toBe(false);
    });
  });

  describe('answerersFor', () => {
    const ask = (
      workflowKey: string,
      stepPath: string[],
      starterId: string | null,
      admins: string[] = [],
    ) => {
      const { users, groups, nobody } = answerersFor(withAdmins(policy, admins), {
        ...wf(workflowKey),
        stepPath,
        starterId,
      });
      return nobody === undefined ? { users, groups } : { users, groups, nobody };
    };

    test('splits users and groups and leaves out a starter who may not self-approve', () => {
      expect(ask('approvalWorkflow', ['review'], 'U8')).toEqual({ users: ['U3', 'U1'], groups: ['S0LEADS'] });
      expect(ask('approvalWorkflow', ['review'], 'U1')).toEqual({ users: ['U3'], groups: ['S0LEADS'] });
    });

    test('keeps the starter when self-approval is allowed; follows step overrides', () => {
      expect(ask('approvalWorkflow', ['approve'], 'U1')).toEqual({ users: ['U4', 'U1'], groups: [] });
      expect(ask('selfOk', ['review'], 'U1')).toEqual({ users: ['U1', 'U3'], groups: [] });
      expect(ask('selfOk', ['strict'], 'U1')).toEqual({ users: ['U3'], groups: [] });
      expect(ask('approvalWorkflow', ['inner', 'inner-approve'], null)).toEqual({
        users: ['U5'],
        groups: [],
      });
    });

    test('no approvers: the starter, or the admins when started outside Slack', () => {
      expect(ask('open', ['review'], 'U8')).toEqual({ users: ['U8'], groups: [] });
      expect(ask('open', ['review'], null, ['U0C', 'U0ADMIN'])).toEqual({
        users: ['U0ADMIN', 'U0C'],
        groups: [],
      });
      const groupAdmins = parsePolicy('admins: [S0OPS, U0A]', 'p');
      expect(answerersFor(groupAdmins, { ...wf('x'), stepPath: ['s'], starterId: null })).toMatchObject({
        kind: 'admins',
        users: ['U0A'],
        groups: ['S0OPS'],
      });
    });
  });

  describe('nobody may answer: said plainly, and the check agrees with the text', () => {
    const lonely = parsePolicy(
      `
admins: [U0ADMIN]
workflows:
  deploy:
    approvers: [U0STARTER]
    steps:
      review:
        approvers: [U0STARTER, U0OTHER]
      closed:
        approvers: []
`,
      'policy.yaml',
    );
    const request = (stepPath: string[], starterId: string | null = 'U0STARTER') => ({
      ...wf('deploy'),
      stepPath,
      starterId,
    });
    const everyone = ['U0STARTER', 'U0OTHER', 'U0ADMIN', 'U0NOBODY'];

    test('the only approver is the starter and self-approval is off: nobody, with what to change', () => {
      const who = answerersFor(lonely, request(['approve']));
      expect(who.users).toEqual([]);
      expect(who.nobody).toContain('the person who started this run');
      expect(who.nobody).toContain('allowSelfApproval');
      for (const userId of everyone) {
        const decision = canAnswer(lonely, { ...request(['approve']), userId, userGroups: [] });
        expect(decision).toEqual({ allowed: false, reason: who.nobody });
      }
    });

    test('an empty approvers list: nobody, and every click is refused with the same reason', () => {
      const who = answerersFor(lonely, request(['closed']));
      expect(who.nobody).toContain('approvers list is empty');
      for (const userId of everyone) {
        expect(canAnswer(lonely, { ...request(['closed']), userId, userGroups: [] }).allowed).toBe(false);
      }
    });

    test('started outside Slack, no approvers and no admins: nobody', () => {
      const who = answerersFor(parsePolicy('workflows:\n  x: {}\n', 'p'), {
        ...wf('x'),
        stepPath: ['s'],
        starterId: null,
      });
      expect(who.nobody).toContain('no admins');
    });

    test('for every step and user, someone listed may answer exactly when the text names them', () => {
      for (const stepPath of [['approve'], ['review'], ['closed'], ['other']]) {
        for (const starterId of ['U0STARTER', null]) {
          const who = answerersFor(lonely, request(stepPath, starterId));
          for (const userId of everyone) {
            const allowed = canAnswer(lonely, {
              ...request(stepPath, starterId),
              userId,
              userGroups: [],
            }).allowed;
            expect(allowed).toBe(who.nobody === undefined && who.users.includes(userId));
          }
        }
      }
    });
  });
});

describe('policyGroups', () => {
  test('lists every group the policy names, once; none for the default policy', () => {
    const policy = parsePolicy(
      'admins: [U1, S0ADMINS]\nworkflows:\n  a:\n    start: [S0START, U2]\n    approvers: [S0LEADS]\n    steps:\n      x:\n        approvers: [S0LEADS, S0STEP]\n',
      'p.yaml',
    );
    expect(policyGroups(policy).sort()).toEqual(['S0ADMINS', 'S0LEADS', 'S0START', 'S0STEP']);
    expect(policyGroups(defaultPolicy())).toEqual([]);
  });
});

describe('a polluted Object.prototype cannot change a decision', () => {
  test('inherited allowSelfApproval, approvers, start and cancel are ignored', () => {
    const policy = parsePolicy(
      'workflows:\n  deploy:\n    approvers: [U0APPROVER]\n    steps:\n      check: {}\n  "*":\n    start: [U0STARTER]\n',
      'p',
    );
    const ref = { workflowKey: 'deploy', workflowId: 'deploy' };
    const polluted = Object.prototype as Record<string, unknown>;
    const keys = ['allowSelfApproval', 'approvers', 'start', 'cancel', 'admins', 'steps'];
    try {
      polluted.allowSelfApproval = true;
      polluted.approvers = ['U0STARTER', 'U0EVIL'];
      polluted.start = ['U0EVIL'];
      polluted.cancel = ['U0EVIL'];
      const answer = (userId: string, stepPath: string[]) =>
        canAnswer(policy, { ...ref, stepPath, userId, userGroups: [], starterId: 'U0STARTER' }).allowed;
      expect(answer('U0STARTER', ['check'])).toBe(false);
      expect(answer('U0EVIL', ['check'])).toBe(false);
      expect(answer('U0APPROVER', ['check'])).toBe(true);
      expect(answer('U0STARTER', ['other'])).toBe(false);
      expect(
        canCancel(policy, { ...ref, userId: 'U0EVIL', userGroups: [], starterId: 'U0STARTER' }).allowed,
      ).toBe(false);
      const other = { workflowKey: 'other', workflowId: 'other' };
      expect(canStart(policy, { ...other, userId: 'U0EVIL', userGroups: [] }).allowed).toBe(false);
      expect(canStart(policy, { ...ref, userId: 'U0EVIL', userGroups: [] }).allowed).toBe(true);
      expect(answerersFor(policy, { ...ref, stepPath: ['check'], starterId: 'U0STARTER' }).users).toEqual([
        'U0APPROVER',
      ]);
    } finally {
      for (const key of keys) delete polluted[key];
    }
  });
});

describe('runs started elsewhere: channel and announce', () => {
  test('valid entries, the "*" default, and every problem at once with line numbers', () => {
    const policy = parsePolicy(
      'workflows:\n  expenses:\n    channel: C0FINANCE\n  live:\n    channel: G0PRIVATE\n    announce: all\n  muted:\n    channel: C0MUTED\n    announce: none\n  "*":\n    channel: C0DEFAULT\n',
      'p.yaml',
    );
    const ref = (key: string) => ({ workflowKey: key, workflowId: key });
    expect(announcementFor(policy, ref('expenses'))).toEqual({ channel: 'C0FINANCE', announce: 'suspended' });
    expect(announcementFor(policy, ref('live'))).toEqual({ channel: 'G0PRIVATE', announce: 'all' });
    expect(announcementFor(policy, ref('muted'))).toBeUndefined();
    expect(announcementFor(policy, ref('unlisted'))).toEqual({ channel: 'C0DEFAULT', announce: 'suspended' });
    expect(announcementFor(defaultPolicy(), ref('x'))).toBeUndefined();
    expect(announcementChannels(policy)).toEqual([
      { channel: 'C0FINANCE', workflows: ['expenses'] },
      { channel: 'G0PRIVATE', workflows: ['live'] },
      { channel: 'C0DEFAULT', workflows: ['*'] },
    ]);
    expect(
      policyError(
        'workflows:\n  a:\n    channel: "#finance"\n    announce: sometimes\n  b:\n    channel: c0lower\n  c:\n    channel: U0USER\n',
      ).problems,
    ).toEqual([
      'policy.yaml:3:14: workflows.a.channel: expected a Slack channel ID (C…/G…), e.g. C0123ABCD, got "#finance" (use the channel ID from the channel details, not its name)',
      'policy.yaml:4:15: workflows.a.announce: expected one of suspended, all, none, got "sometimes"',
      'policy.yaml:6:14: workflows.b.channel: expected a Slack channel ID (C…/G…), e.g. C0123ABCD, got "c0lower" (Slack IDs are upper-case)',
      'policy.yaml:8:14: workflows.c.channel: expected a Slack channel ID (C…/G…), e.g. C0123ABCD, got "U0USER"',
    ]);
  });
});

describe('deadlines and quorums: remindEvery, escalateAfter, escalateTo, timeoutAfter, onTimeout, required', () => {
  const H = 3_600_000;
  const D = 24 * H;
  const deploy = { workflowKey: 'deployRelease', workflowId: 'deploy-release' };
  const policy = parsePolicy(
    [
      'workflows:',
      '  deployRelease:',
      '    approvers: [S0RELEASE]',
      '    remindEvery: 4h',
      '    escalateAfter: 1d',
      '    escalateTo: [U0HEADOPS, S0ONCALL]',
      '    timeoutAfter: 3d',
      '    onTimeout: cancel',
      '    required: 2',
      '    steps:',
      '      smoke:',
      '        onTimeout: { answer: { approved: false, comment: "No answer in 3 days" } }',
      '        required: 1',
      '      notes:',
      '        timeoutAfter: 90s',
      '  "*":',
      '    remindEvery: 30m',
    ].join('\n'),
    'p.yaml',
  );

  test('each key from the step entry when it sets it, else from the workflow; defaults for onTimeout and required', () => {
    expect(deadlineRulesFor(policy, deploy, ['approve'])).toEqual({
      required: 2,
      remindEvery: 4 * H,
      escalateAfter: D,
      escalateTo: ['U0HEADOPS', 'S0ONCALL'],
      timeoutAfter: 3 * D,
      onTimeout: 'cancel',
    });
    expect(deadlineRulesFor(policy, deploy, ['smoke'])).toMatchObject({
      required: 1,
      onTimeout: { answer: { approved: false, comment: 'No answer in 3 days' } },
      timeoutAfter: 3 * D,
    });
    expect(deadlineRulesFor(policy, deploy, ['notes']).timeoutAfter).toBe(90_000);
    expect(deadlineRulesFor(policy, { workflowKey: 'x', workflowId: 'x' }, ['s'])).toEqual({
      required: 1,
      remindEvery: 30 * 60_000,
    });
    expect(
      deadlineRulesFor(
        parsePolicy('workflows: { a: { timeoutAfter: 2d } }', 'p'),
        { workflowKey: 'a', workflowId: 'a' },
        ['s'],
      ),
    ).toEqual({ required: 1, timeoutAfter: 2 * D, onTimeout: 'cancel' });
    expect(deadlineRulesFor(defaultPolicy(), deploy, ['s'])).toEqual({ required: 1 });
    expect(quorumRules(policy)).toEqual([{ workflow: 'deployRelease', required: 2 }]);
    expect(policyGroups(policy)).toContain('S0ONCALL');
  });

  test('escalation widens who may answer once the step has waited escalateAfter, for the text and the check alike', () => {
    const since = new Date('2026-12-01T09:00:00Z');
    const at = (ms: number) => ({ since, now: new Date(since.getTime() + ms) });
    const request = { ...deploy, stepPath: ['approve'], starterId: 'U0STARTER' };
    expect(answerersFor(policy, request)).toEqual({
      kind: 'approvers',
      users: [],
      groups: ['S0RELEASE'],
      starterRefused: true,
    });
    expect(answerersFor(policy, { ...request, waiting: at(D - 1) }).escalated).toBeUndefined();
    expect(answerersFor(policy, { ...request, waiting: at(D) })).toEqual({
      kind: 'approvers',
      users: ['U0HEADOPS'],
      groups: ['S0RELEASE', 'S0ONCALL'],
      starterRefused: true,
      escalated: { after: D, to: ['U0HEADOPS', 'S0ONCALL'] },
    });
    const may = (userId: string, userGroups: string[], ms: number | undefined) =>
      canAnswer(policy, {
        ...request,
        userId,
        userGroups,
        ...(ms === undefined ? {} : { waiting: at(ms) }),
      }).allowed;
    expect(may('U0HEADOPS', [], D - 1)).toBe(false);
    expect(may('U0HEADOPS', [], undefined)).toBe(false);
    expect(may('U0HEADOPS', [], D)).toBe(true);
    expect(may('U0PAGER', ['S0ONCALL'], D + 5)).toBe(true);
    expect(may('U0PAGER', ['S0ONCALL'], H)).toBe(false);
    // The starter stays refused even when escalated to through a group.
    expect(may('U0STARTER', ['S0ONCALL'], 2 * D)).toBe(false);
    // Escalation also helps a step nobody could answer.
    const nobody = parsePolicy(
      'workflows:\n  a:\n    approvers: []\n    escalateAfter: 1h\n    escalateTo: [U0BOSS]\n',
      'p',
    );
    const ref = { workflowKey: 'a', workflowId: 'a', stepPath: ['s'], starterId: null };
    expect(answerersFor(nobody, ref).nobody).toBeDefined();
    expect(answerersFor(nobody, { ...ref, waiting: at(H) })).toMatchObject({ users: ['U0BOSS'] });
    expect(answerersFor(nobody, { ...ref, waiting: at(H) }).nobody).toBeUndefined();
    expect(canAnswer(nobody, { ...ref, waiting: at(H), userId: 'U0BOSS', userGroups: [] }).allowed).toBe(
      true,
    );
  });

  test('every problem at once, with line numbers', () => {
    expect(
      policyError(
        [
          'workflows:', //                                         1
          '  a:', //                                               2
          '    remindEvery: 4 hours', //                           3
          '    escalateAfter: 90', //                              4
          '    escalateTo: U1', //                                 5
          '    timeoutAfter: 500ms', //                            6
          '    onTimeout: retry', //                               7
          '    required: 0', //                                    8
          '  b:', //                                               9
          '    escalateAfter: 3d', //                             10
          '    timeoutAfter: 1d', //                              11
          '    steps:', //                                        12
          '      s:', //                                          13
          '        onTimeout: { answer: [1] }', //                14
          '        required: 1.5', //                             15
        ].join('\n'),
      ).problems,
    ).toEqual([
      'policy.yaml:3:18: workflows.a.remindEvery: expected a duration such as 90s, 30m, 4h, 2d or 1h30m (units s, m, h, d), got "4 hours"',
      'policy.yaml:4:20: workflows.a.escalateAfter: expected a duration such as 90s, 30m, 4h, 2d or 1h30m (units s, m, h, d), got 90',
      'policy.yaml:5:17: workflows.a.escalateTo: expected a list of Slack user IDs (U…/W…) or user-group IDs (S…), e.g. [U0123ABCD, S0456EFGH], got "U1"',
      'policy.yaml:6:19: workflows.a.timeoutAfter: expected a duration such as 90s, 30m, 4h, 2d or 1h30m (units s, m, h, d), got "500ms"',
      'policy.yaml:7:16: workflows.a.onTimeout: expected cancel, or { answer: { … } } with the answer to resume the step with, e.g. { answer: { approved: false } }, got "retry"',
      'policy.yaml:8:15: workflows.a.required: expected a whole number of approvals of at least 1, got 0',
      'policy.yaml:10:20: workflows.b.escalateAfter: must be shorter than timeoutAfter (1 day): the step would time out before anyone is escalated to',
      'policy.yaml:14:20: workflows.b.steps.s.onTimeout: expected cancel, or { answer: { … } } with the answer to resume the step with, e.g. { answer: { approved: false } }, got a mapping',
      'policy.yaml:15:19: workflows.b.steps.s.required: expected a whole number of approvals of at least 1, got 1.5',
    ]);
  });
});

describe('who may see a run: view', () => {
  const policy = parsePolicy(
    `
admins: [U0ADMIN]
workflows:
  payroll:
    view: [S0AUDIT, U0AUDITOR]
    approvers: [U0LEAD]
    steps:
      sign: { approvers: [U0SIGNER], escalateTo: [U0HEAD] }
  openBook:
    view: [everyone]
  plain: {}
`,
    'view.yaml',
  );
  const ref = (workflowKey: string) => ({ workflowKey, workflowId: workflowKey });
  const view = (workflowKey: string, userId: string, extra: Record<string, unknown> = {}) =>
    canView(policy, { ...ref(workflowKey), userId, userGroups: [], starterId: 'U0STARTER', ...extra })
      .allowed;

  test('by default: members of the conversation, the starter, admins; nobody else', () => {
    expect(view('plain', 'U0STARTER')).toBe(true);
    expect(view('plain', 'U0ADMIN')).toBe(true);
    expect(view('plain', 'U0MEMBER', { inConversation: true })).toBe(true);
    expect(view('plain', 'U0OTHER', { inConversation: false })).toBe(false);
    expect(view('plain', 'U0OTHER')).toBe(false);
    expect(view('plain', 'U0OTHER', { starterId: null })).toBe(false);
    expect(viewersFor(policy, ref('plain'), 'U0STARTER')).toEqual({
      everyone: false,
      conversation: true,
      users: ['U0ADMIN', 'U0STARTER'],
      groups: [],
    });
  });

  test('view replaces the conversation with whom it lists; everyone who may answer a step may see', () => {
    expect(view('payroll', 'U0MEMBER', { inConversation: true })).toBe(false);
    expect(view('payroll', 'U0AUDITOR')).toBe(true);
    expect(view('payroll', 'U0X', { userGroups: ['S0AUDIT'] })).toBe(true);
    for (const answerer of ['U0LEAD', 'U0SIGNER', 'U0HEAD']) expect(view('payroll', answerer)).toBe(true);
    const refused = canView(policy, { ...ref('payroll'), userId: 'U0X', userGroups: [], starterId: null });
    expect(refused).toEqual({
      allowed: false,
      reason: expect.stringContaining('limits who may see runs of payroll'),
    });
    expect(view('openBook', 'U0ANYONE')).toBe(true);
    expect(policyGroups(policy)).toContain('S0AUDIT');
  });

  test('bad entries are refused with their line', () => {
    const error = policyError('workflows:\n  a:\n    view: [channel, "#general", u0lower]\n');
    expect(error.problems.join('\n')).toMatch(/:3:\d+: workflows\.a\.view\[1\].*channel.*everyone/);
    expect(error.problems).toHaveLength(2);
  });
});

describe('requesters of runs started elsewhere', () => {
  test('requesters: user IDs on or off, e-mail domains lower-cased; omitted = every requester trusted', () => {
    const policy = parsePolicy(
      'requesters:\n  userIds: false\n  emailDomains: [Example.COM, example.com, corp.example.org]\n',
      'p.yaml',
    );
    expect(policy.requesters).toEqual({ userIds: false, emailDomains: ['example.com', 'corp.example.org'] });
    expect(requesterAllowed(policy, { userId: 'U0ABC1234' })).toBe(false);
    expect(requesterAllowed(policy, { email: 'ada@example.com' })).toBe(true);
    expect(requesterAllowed(policy, { email: 'ada@corp.example.org' })).toBe(true);
    // Exact domains: neither another domain nor a look-alike ending.
    expect(requesterAllowed(policy, { email: 'ada@evil.com' })).toBe(false);
    expect(requesterAllowed(policy, { email: 'ada@notexample.com' })).toBe(false);
    expect(requesterAllowed(policy, { email: 'ada@mail.example.com' })).toBe(false);
    const emailsOff = parsePolicy('requesters: { emailDomains: [] }', 'p.yaml');
    expect(emailsOff.requesters).toEqual({ userIds: true, emailDomains: [] });
    expect(requesterAllowed(emailsOff, { userId: 'U0ABC1234' })).toBe(true);
    expect(requesterAllowed(emailsOff, { email: 'ada@example.com' })).toBe(false);
    for (const open of [defaultPolicy(), parsePolicy('requesters:\n', 'p.yaml')]) {
      expect(requesterAllowed(open, { userId: 'U0ABC1234' })).toBe(true);
      expect(requesterAllowed(open, { email: 'ada@anything.io' })).toBe(true);
    }
  });

  test('requesters: every problem with its line and what was expected', () => {
    expect(
      policyError(
        [
          'requesters:', //                                   1
          '  userIds: "no"', //                               2
          '  emailDomains: [ada@example.com, "not a domain", 7]', // 3
          '  domains: [example.com]', //                      4
        ].join('\n'),
      ).problems,
    ).toEqual([
      'policy.yaml:2:12: requesters.userIds: expected true or false, got "no"',
      'policy.yaml:3:18: requesters.emailDomains[0]: expected a domain name, e.g. example.com, got "ada@example.com" (the domain only, without the part before @)',
      'policy.yaml:3:35: requesters.emailDomains[1]: expected a domain name, e.g. example.com, got "not a domain"',
      'policy.yaml:3:51: requesters.emailDomains[2]: expected a domain name, e.g. example.com, got 7',
      'policy.yaml:4:3: requesters.domains: unknown key: expected one of userIds, emailDomains',
    ]);
    expect(policyError('requesters: [example.com]').problems).toEqual([
      'policy.yaml:1:13: requesters: expected a mapping with the keys userIds, emailDomains, got a list',
    ]);
  });

  test('a requester not yet known is never "no requester": answers that depend on them are refused, by one decision', () => {
    const policy = parsePolicy(
      [
        'admins: [U0ADMIN]',
        'workflows:',
        '  gated:',
        '    approvers: [U1, S0LEADS]',
        '    escalateAfter: 1h',
        '    escalateTo: [U5]',
        '    steps:',
        '      relaxed: { allowSelfApproval: true }',
        '  open: {}',
      ].join('\n'),
      'p.yaml',
    );
    const pending = (workflowKey: string, step: string) => ({
      ...wf(workflowKey),
      stepPath: [step],
      starterId: null,
      starterPending: true,
      waiting: { since: new Date(0), now: new Date(2 * 3600_000) },
    });
    // Self-approval off: any approver, escalated or not, might be the requester.
    const gated = answerersFor(policy, pending('gated', 'review'));
    expect(gated).toMatchObject({ users: [], groups: [], pending: expect.stringContaining('not yet known') });
    expect(gated.escalated).toBeUndefined();
    for (const userId of ['U1', 'U5', 'U0ADMIN'])
      expect(canAnswer(policy, { ...pending('gated', 'review'), userId, userGroups: ['S0LEADS'] })).toEqual({
        allowed: false,
        reason: gated.pending,
      });
    // The requester answers: nobody knows who that is yet (not the admins' "no starter" rule).
    const open = answerersFor(policy, pending('open', 'review'));
    expect(open.kind).toBe('starter');
    expect(open.pending).toContain('answered by the requester');
    expect(
      canAnswer(policy, { ...pending('open', 'review'), userId: 'U0ADMIN', userGroups: [] }).allowed,
    ).toBe(false);
    // Self-approval allowed: who the requester is does not matter.
    const relaxed = answerersFor(policy, pending('gated', 'relaxed'));
    expect(relaxed.pending).toBeUndefined();
    expect(canAnswer(policy, { ...pending('gated', 'relaxed'), userId: 'U1', userGroups: [] }).allowed).toBe(
      true,
    );
    // Without the flag, the same run is one with no starter: admins answer (the defect this prevents).
    expect(
      canAnswer(policy, {
        ...wf('open'),
        stepPath: ['review'],
        starterId: null,
        userId: 'U0ADMIN',
        userGroups: [],
      }).allowed,
    ).toBe(true);
  });
});
