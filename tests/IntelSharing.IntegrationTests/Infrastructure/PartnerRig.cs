using System.Net;
using System.Text.Json.Nodes;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// The loopback receivers and subscriptions one delivery test sets up, removed when the test ends: the fixture's
/// database is shared by the class, so no subscription may be left behind for the next test to deliver to.
/// </summary>
public sealed class PartnerRig : IAsyncDisposable
{
    private readonly List<PartnerReceiver> _receivers = [];
    private readonly List<(TestAgency Agency, Guid Id)> _subscriptions = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The ids of the subscriptions this test created.</summary>
    public IReadOnlySet<Guid> SubscriptionIds => _subscriptions.Select(s => s.Id).ToHashSet();

    public async Task<PartnerReceiver> ReceiverAsync(Func<int, PartnerReceiver.Response>? behaviour = null)
    {
        var receiver = await PartnerReceiver.StartAsync();
        if (behaviour is not null)
        {
            receiver.Behaviour = behaviour;
        }

        _receivers.Add(receiver);
        return receiver;
    }

    /// <summary>Subscribes <paramref name="agency"/>'s endpoint at <paramref name="url"/> (201 asserted); <paramref name="body"/> adds filter fields.</summary>
    public async Task<(Guid Id, string Secret)> SubscribeAsync(TestAgency agency, string url, Action<JsonObject>? body = null)
    {
        var request = new JsonObject { ["url"] = url, ["description"] = "Operations centre gateway" };
        body?.Invoke(request);
        var response = await agency.Client.PostAsync("/api/v1/subscriptions", Samples.Json(request), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        var id = json.GetProperty("subscription").GetProperty("id").GetGuid();
        _subscriptions.Add((agency, id));
        return (id, json.GetProperty("secret").GetString()!);
    }

    /// <summary>A new receiver with a subscription of <paramref name="agency"/> pointing at it.</summary>
    public async Task<(PartnerReceiver Receiver, Guid SubscriptionId)> SubscribedReceiverAsync(TestAgency agency, Action<JsonObject>? body = null)
    {
        var receiver = await ReceiverAsync();
        var (id, _) = await SubscribeAsync(agency, receiver.Url, body);
        return (receiver, id);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (agency, id) in _subscriptions)
        {
            await agency.Client.DeleteAsync($"/api/v1/subscriptions/{id}");
        }

        foreach (var receiver in _receivers)
        {
            await receiver.DisposeAsync();
        }
    }
}
