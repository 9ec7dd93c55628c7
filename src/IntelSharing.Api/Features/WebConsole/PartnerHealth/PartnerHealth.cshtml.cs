using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Subscriptions;
using IntelSharing.Api.Infrastructure.Audit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.PartnerHealth;

/// <summary>
/// "Who is not receiving our alerts, and why?": the query of GET /api/v1/subscriptions/health, so an agency sees its
/// own endpoints and an operator every one, by the delivery ledger's rule.
/// </summary>
[Authorize(Policy = DeliveryPolicies.Ledger)]
public sealed class PartnerHealthModel(ConsoleRequests requests) : PageModel
{
    public PartnerHealthPage? Health { get; private set; }

    public string? Problem { get; private set; }

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        var result = await requests.AskAsync(new ListPartnerHealth.Query(requests.Caller, cursor, null),
            new Audited(AuditActions.SubscriptionHealth, AuditResources.Subscription), cancellationToken);
        Health = result.Value;
        Problem = result.Failure?.Detail;
        if (result.Failure is not null)
        {
            Response.StatusCode = result.Failure.Status;
        }
    }
}
