using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Audit;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.DeadLetters;

/// <summary>
/// The caller's dead letters, newest first, in the API's keyset pages (GET /api/v1/deliveries?state=dead), and a
/// replay of the ones ticked: each one the same command as POST /api/v1/deliveries/{id}/replay, so the same scope,
/// ownership and sharing-rule checks refuse what the API would refuse, and say why.
/// </summary>
[Authorize(Policy = DeliveryPolicies.Ledger)]
public sealed class DeadLettersModel(ConsoleRequests requests) : PageModel
{
    public const int PageSize = 50;

    public DeliveryPage? Letters { get; private set; }

    public string? Problem { get; private set; }

    public string? Cursor { get; private set; }

    /// <summary>What each replay of the last post answered: the delivery and, when refused, why.</summary>
    public IReadOnlyList<ReplayOutcome> Replayed { get; private set; } = [];

    public sealed record ReplayOutcome(Guid Id, string? Refusal);

    /// <summary>The outcomes of the last replay post, handed to the GET that follows it; read once, then gone.</summary>
    [TempData]
    public string? ReplayOutcomes { get; set; }

    public Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        Replayed = ReplayOutcomes is { } carried ? JsonSerializer.Deserialize<List<ReplayOutcome>>(carried) ?? [] : [];
        return LoadAsync(cursor, cancellationToken);
    }

    public async Task<IActionResult> OnPostReplayAsync([FromForm] List<Guid>? ids, CancellationToken cancellationToken)
    {
        var outcomes = new List<ReplayOutcome>();
        foreach (var id in (ids ?? []).Distinct().Take(PageSize))
        {
            var result = await requests.DoAsync(new ReplayDeliveries.ReplayOne(requests.Caller, id),
                new Audited(AuditActions.DeliveryReplay, AuditResources.Delivery, id), cancellationToken);
            outcomes.Add(new ReplayOutcome(id, result.Failure?.Detail));
        }

        // Post/redirect/get, as on the delivery page: reloading the list must not post the replays again. The outcomes
        // ride along in TempData (a data-protected cookie, read once) to the GET that shows them.
        ReplayOutcomes = JsonSerializer.Serialize(outcomes);
        return LocalRedirect($"{ConsoleSetup.PathBase}/dead-letters");
    }

    private async Task LoadAsync(string? cursor, CancellationToken cancellationToken)
    {
        Cursor = cursor;
        var result = await requests.AskAsync(
            new ListDeliveries.Query(requests.Caller, DeliveryStates.Dead, null, null, cursor, $"{PageSize}"),
            new Audited(AuditActions.DeliveryList, AuditResources.Delivery), cancellationToken);
        Letters = result.Value;
        Problem = result.Failure?.Detail;
        if (result.Failure is not null)
        {
            Response.StatusCode = result.Failure.Status;
        }
    }
}
