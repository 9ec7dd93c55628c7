using System.Globalization;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Infrastructure.Audit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.DeadLetters;

/// <summary>
/// One delivery and its attempts (GET /api/v1/deliveries/{id}), with a replay button (POST …/{id}/replay): the
/// same query and command. A delivery the caller may not see is "not found", as in the API.
/// </summary>
[Authorize(Policy = DeliveryPolicies.Ledger)]
public sealed class DeliveryModel(ConsoleRequests requests) : PageModel
{
    public const string SignatureWithheld = "v1,… (withheld: an HMAC of the subscription's secret)";

    public DeliveryDetail? Detail { get; private set; }

    public string? Problem { get; private set; }

    /// <summary>Set after a replay: null when it was queued, else why it was refused.</summary>
    public string? ReplayRefusal { get; private set; }

    public bool ReplayPosted { get; private set; }

    public Task OnGetAsync(Guid id, [FromQuery] bool replayed, CancellationToken cancellationToken)
    {
        ReplayPosted = replayed;
        return LoadAsync(id, cancellationToken);
    }

    public async Task<IActionResult> OnPostReplayAsync(Guid id, CancellationToken cancellationToken)
    {
        var result = await requests.DoAsync(new ReplayDeliveries.ReplayOne(requests.Caller, id),
            new Audited(AuditActions.DeliveryReplay, AuditResources.Delivery, id), cancellationToken);
        if (result.Failure is null)
        {
            // Post/redirect/get: reloading the page must not send the delivery once more.
            return LocalRedirect($"{ConsoleSetup.PathBase}/deliveries/{id}?replayed=true");
        }

        ReplayPosted = true;
        ReplayRefusal = result.Failure.Detail;
        await LoadAsync(id, cancellationToken);
        return Page();
    }

    /// <summary>
    /// The headers an attempt sent, as the sender writes them: the signature is left out (it is derived from the
    /// subscription's secret and proves nothing to a reader here), and the timestamp is the attempt's start.
    /// </summary>
    public IReadOnlyList<(string Name, string Value)> RequestHeaders(DeliveryAttemptView attempt) =>
    [
        ("content-type", "application/json; charset=utf-8"),
        ("webhook-id", Detail!.Delivery.WebhookId),
        ("webhook-timestamp", attempt.StartedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
        ("webhook-signature", SignatureWithheld),
    ];

    private async Task LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        var result = await requests.AskAsync(new GetDelivery.Query(requests.Caller, id),
            new Audited(AuditActions.DeliveryRead, AuditResources.Delivery, id), cancellationToken);
        Detail = result.Value;
        Problem = result.Failure?.Detail;
        if (result.Failure is not null)
        {
            Response.StatusCode = result.Failure.Status;
        }
    }
}
