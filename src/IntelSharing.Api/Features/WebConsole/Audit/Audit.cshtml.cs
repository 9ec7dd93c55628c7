using IntelSharing.Api.Features.Audit;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.Audit;

/// <summary>
/// Verifies the audit hash chain with one click: the query of GET /api/v1/audit/verify. A form post rather than a
/// link, because a verification walks the whole chain: no prefetching browser or crawler should start one.
/// </summary>
[Authorize(Policy = Scopes.AuditRead)]
public sealed class AuditModel(ConsoleRequests requests) : PageModel
{
    public AuditVerification? Verification { get; private set; }

    public string? Problem { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var result = await requests.AskAsync(new VerifyAuditChain.Query(null, null, null),
            new Audited(AuditActions.AuditVerify, AuditResources.AuditTrail), cancellationToken);
        Verification = result.Value;
        Problem = result.Failure?.Detail;
        return Page();
    }
}
