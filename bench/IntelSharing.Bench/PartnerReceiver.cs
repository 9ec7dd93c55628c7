using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace IntelSharing.Bench;

/// <summary>
/// A partner agency's webhook endpoint on loopback: answers 200 at once and records, per webhook-id, when the
/// request arrived (Stopwatch ticks, the same clock the generator stamps a 201 with) and which alert it carried.
/// </summary>
public sealed class PartnerReceiver : IAsyncDisposable
{
    private static readonly byte[] DataId = Encoding.ASCII.GetBytes("\"data\":{\"id\":\"");
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Receipt> _receipts = new();
    private readonly ConcurrentDictionary<string, int> _copies = new();
    private long _requests;

    private PartnerReceiver(WebApplication app) => _app = app;

    public readonly record struct Receipt(Guid AlertId, long ArrivedAt);

    public string Url { get; private set; } = string.Empty;

    /// <summary>Requests answered, duplicates (same webhook-id) included.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Distinct webhook-ids received.</summary>
    public int Distinct => _receipts.Count;

    public ICollection<Receipt> Receipts => _receipts.Values;

    /// <summary>Per webhook-id, the alert it carried and how many requests carried it (more than one: a duplicate).</summary>
    public IEnumerable<(string WebhookId, Guid AlertId, int Copies)> Copies =>
        _receipts.Select(r => (r.Key, r.Value.AlertId, _copies.GetValueOrDefault(r.Key)));

    public static async Task<PartnerReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        var app = builder.Build();
        var receiver = new PartnerReceiver(app);
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/webhooks/intelsharing";
        return receiver;
    }

    public void Clear()
    {
        _receipts.Clear();
        _copies.Clear();
        Interlocked.Exchange(ref _requests, 0);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var arrived = Stopwatch.GetTimestamp();
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        Interlocked.Increment(ref _requests);
        var id = context.Request.Headers["webhook-id"].ToString();
        _receipts.TryAdd(id, new Receipt(AlertIdOf(body.GetBuffer().AsSpan(0, (int)body.Length)), arrived));
        _copies.AddOrUpdate(id, 1, (_, copies) => copies + 1);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>The payload is <c>{"type":…,"timestamp":…,"data":{"id":"…",…}}</c>; the alert id is all the benchmark needs.</summary>
    private static Guid AlertIdOf(ReadOnlySpan<byte> body)
    {
        var at = body.IndexOf(DataId);
        return at >= 0 && body.Length >= at + DataId.Length + 36 && Guid.TryParse(Encoding.ASCII.GetString(body.Slice(at + DataId.Length, 36)), out var id)
            ? id
            : Guid.Empty;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
