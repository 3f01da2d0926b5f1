import { describeFailure, describeResource, type InventoryReport, type PolicySummary } from './inventory.js';

/**
 * The inventory as the approval e-mails show it: what becomes unreadable, who holds grants, whom the
 * key policy lets in, and what the inventory cannot see. Plain text, indented like the other sections.
 */

/** The heading of the section, as it appears in the disable approval e-mail. */
export const INVENTORY_HEADING = 'WHAT THE KEY PROTECTS';

/** What no read API shows, said once so nobody takes an empty inventory for a proof. */
const BLIND_SPOTS =
  'Not seen by any inventory: S3 objects uploaded with an explicit SSE-KMS key other than their bucket default, ' +
  'ciphertexts an application stores itself (data keys from GenerateDataKey), and resource types not listed above.';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function policyLines(policy: PolicySummary | null): string[] {
  if (!policy) {
    return ['  Key policy: not read'];
  }
  if (policy.unreadable) {
    return [`  Key policy: ${policy.unreadable}`];
  }
  const lines = ['  Key policy (GetKeyPolicy), who it lets in:'];
  const item = (label: string, values: readonly string[]) =>
    lines.push(`    ${`${label}:`.padEnd(22)}${values.length ? values.join(', ') : '(none)'}`);
  item('AWS principals', policy.principals);
  item('Other accounts', policy.otherAccounts);
  item('Service principals', policy.servicePrincipals);
  item('Via services', policy.viaServices);
  if (policy.anyone) {
    lines.push('    Everyone ("*"):       an Allow statement names every principal (see its conditions)');
  }
  return lines;
}

/** The section's lines, for a report of either phase. */
export function inventoryLines(report: InventoryReport): string[] {
  const lines = [
    INVENTORY_HEADING,
    `  Inventory of ${report.region} at ${report.takenAt}, read with each service's own APIs.`,
  ];
  if (report.resourceCount === 0) {
    lines.push('  Resources encrypted under the key: none found.');
  } else {
    const accepted = report.acceptedDataLoss > 0;
    lines.push(
      accepted
        ? `  WILL BECOME UNREADABLE when the key is deleted (acceptDataLoss names exactly these ${plural(report.resourceCount, 'resource')}):`
        : `  Resources encrypted under the key (${report.resourceCount}):`,
      ...report.resources.map((resource) => `    - ${describeResource(resource)}`),
    );
    if (report.resourceCount > report.resources.length) {
      lines.push(`    - and ${report.resourceCount - report.resources.length} more`);
    }
  }
  if (report.failures.length > 0) {
    lines.push(
      '  Reads that failed:',
      ...report.failures.map((failure) => `    - ${describeFailure(failure)}`),
    );
  }
  lines.push(`  Grants (ListGrants): ${report.grantCount === 0 ? 'none' : report.grantCount}`);
  for (const grant of report.grants) {
    lines.push(
      `    - ${grant.granteePrincipal}: ${grant.operations.join(', ') || '(no operations)'}` +
        `${grant.constraints ? `; ${grant.constraints}` : ''}` +
        `${grant.retiringPrincipal ? `; retiring principal ${grant.retiringPrincipal}` : ''}` +
        `${grant.name ? `; name ${grant.name}` : ''} (grant ${grant.grantId}${grant.createdAt ? `, created ${grant.createdAt}` : ''})`,
    );
  }
  if (report.grantCount > report.grants.length) {
    lines.push(`    - and ${report.grantCount - report.grants.length} more`);
  }
  lines.push(
    ...policyLines(report.policy),
    '  Grants and the policy are access paths: the watch sees their callers fail once the key is disabled.',
    `  ${BLIND_SPOTS}`,
  );
  return lines;
}
