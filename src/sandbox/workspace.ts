/**
 * The sandbox's make-believe workspace: an admin, a requester and two approvers (in an
 * `@approvers` group), a few channels, and the policy that says approvers answer what others
 * started. Every ID is shown on the page, so a visitor can copy them into a policy file of their own.
 */
import type { WorkspaceSeed } from '../emulator/index.ts';
import { parsePolicy } from '../policy/load.ts';
import type { Policy } from '../policy/types.ts';

export const SANDBOX_USERS = {
  admin: 'U0SBADMIN1',
  requester: 'U0SBREQST1',
  approver1: 'U0SBAPPR01',
  approver2: 'U0SBAPPR02',
} as const;

export const APPROVERS_GROUP = 'S0SBAPPROV';

export const SANDBOX_CHANNELS = {
  general: 'C0SBGENRL1',
  deploys: 'C0SBDEPLOY',
  random: 'C0SBRANDOM',
} as const;

/** What each person is for, shown beside their name in the "Sandbox user" switcher. */
export const ROLES: Readonly<Record<string, string>> = {
  [SANDBOX_USERS.admin]: 'admin',
  [SANDBOX_USERS.requester]: 'requester',
  [SANDBOX_USERS.approver1]: 'approver',
  [SANDBOX_USERS.approver2]: 'approver',
};

export const SANDBOX_WORKSPACE: WorkspaceSeed = {
  teamId: 'T0SANDBOX1',
  teamName: 'Flowgate Sandbox',
  teamDomain: 'flowgate-sandbox',
  appId: 'A0FLOWGATE',
  botUserId: 'U0FLOWGATE',
  botId: 'B0FLOWGATE',
  botName: 'Flowgate',
  users: [
    {
      id: SANDBOX_USERS.requester,
      name: 'rey',
      realName: 'Rey Requester',
      email: 'rey@sandbox.example',
    },
    {
      id: SANDBOX_USERS.approver1,
      name: 'avery',
      realName: 'Avery Approver',
      email: 'avery@sandbox.example',
    },
    {
      id: SANDBOX_USERS.approver2,
      name: 'blake',
      realName: 'Blake Approver',
      email: 'blake@sandbox.example',
    },
    {
      id: SANDBOX_USERS.admin,
      name: 'ada',
      realName: 'Ada Admin',
      email: 'ada@sandbox.example',
      isAdmin: true,
    },
  ],
  userGroups: [
    {
      id: APPROVERS_GROUP,
      handle: 'approvers',
      name: 'Approvers',
      users: [SANDBOX_USERS.approver1, SANDBOX_USERS.approver2],
    },
  ],
  channels: [
    {
      id: SANDBOX_CHANNELS.general,
      name: 'general',
      isGeneral: true,
      topic: 'Try /flowgate list',
    },
    { id: SANDBOX_CHANNELS.deploys, name: 'deploys', topic: 'Deploys and releases' },
    { id: SANDBOX_CHANNELS.random, name: 'random', botIsMember: false },
  ],
};

/**
 * The built-in sandbox policy: admins may cancel anything; the approvers answer, never the starter.
 * Two demos show the deadline and quorum keys (a listed workflow does not inherit from "*", so each
 * names its approvers again): `accessReview` reminds every minute and settles an item nobody
 * reviewed within 10 minutes as revoked; `hotfixRollout`'s sign-off needs both approvers, reminds
 * every minute, lets the admin answer after 5 minutes and cancels the run after 10.
 */
export const SANDBOX_POLICY_TEXT = `admins: [${SANDBOX_USERS.admin}]
workflows:
  accessReview:
    approvers: [${APPROVERS_GROUP}]
    allowSelfApproval: false
    remindEvery: 1m
    timeoutAfter: 10m
    onTimeout: { answer: { approved: false, comment: "Not reviewed within 10 minutes" } }
  hotfixRollout:
    approvers: [${APPROVERS_GROUP}]
    allowSelfApproval: false
    required: 2
    remindEvery: 1m
    escalateAfter: 5m
    escalateTo: [${SANDBOX_USERS.admin}]
    timeoutAfter: 10m
    onTimeout: cancel
  "*":
    approvers: [${APPROVERS_GROUP}]
    allowSelfApproval: false
`;

export function sandboxPolicy(): Policy {
  return parsePolicy(SANDBOX_POLICY_TEXT, 'the sandbox policy');
}
