using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Subscriptions;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.Home;

/// <summary>
/// The caller's subscriptions, each with the states of its recent deliveries, and the newest deliveries: the answers
/// of GET /api/v1/subscriptions and GET /api/v1/deliveries, through the same handlers. Sections the key's scopes do
/// not allow are not asked for.
/// </summary>
public sealed class HomeModel(ConsoleRequests requests) : PageModel
{
    /// <summary>How many of the newest deliveries the per-subscription summary is made of: one ledger page, one query.</summary>
    public const int RecentDeliveries = 100;

    public const int ShownDeliveries = 20;

    public IReadOnlyList<SubscriptionView>? Subscriptions { get; private set; }

    public IReadOnlyList<DeliveryView>? Recent { get; private set; }

    public string? LedgerProblem { get; private set; }

    /// <summary>Per subscription: how many of the recent deliveries are in each state.</summary>
    public IReadOnlyDictionary<Guid, IReadOnlyDictionary<string, int>> StatesBySubscription { get; private set; } =
        new Dictionary<Guid, IReadOnlyDictionary<string, int>>();

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var caller = requests.Caller;
        if (caller.Has(Scopes.SubscriptionsManage))
        {
            Subscriptions = (await requests.ListAsync(new ListSubscriptions.Query(caller, null, $"{KeysetPaging.MaxLimit}"),
                new Audited(AuditActions.SubscriptionList, AuditResources.Subscription), cancellationToken)).Items;
        }

        if (caller.Has(Scopes.SubscriptionsManage) || caller.Has(Scopes.DeliveriesManage))
        {
            var page = await requests.AskAsync(new ListDeliveries.Query(caller, null, null, null, null, $"{RecentDeliveries}"),
                new Audited(AuditActions.DeliveryList, AuditResources.Delivery), cancellationToken);
            LedgerProblem = page.Failure?.Detail;
            var items = page.Value?.Items ?? [];
            Recent = items.Take(ShownDeliveries).ToList();
            StatesBySubscription = items.GroupBy(d => d.SubscriptionId).ToDictionary(
                g => g.Key,
                g => (IReadOnlyDictionary<string, int>)g.GroupBy(d => d.State).ToDictionary(s => s.Key, s => s.Count()));
        }
    }
}
