using IntelSharing.Api.Features.Deliveries.Dispatch;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.UnitTests.Features.Deliveries;

/// <summary>
/// The backlog gauges have two callers (the scrape of /metrics and the dispatcher's periodic refresh) and one writer:
/// a read begun before a delivery was recorded must never land after a read that saw it recorded.
/// </summary>
public sealed class DeliveryBacklogTests : IDisposable
{
    private static readonly Guid Subscription = Guid.Parse("01a22036-df8e-72f7-9641-c132760b1fb7");

    private readonly MetricsExport _export = new();
    private readonly DeliveryMetrics _metrics;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 2, 0, 0, TimeSpan.Zero));

    public DeliveryBacklogTests() => _metrics = new DeliveryMetrics(_export);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DeliveryBacklog Backlog(DeliveryBacklog.Reader read) => new(read, _metrics, _time, NullLogger<DeliveryBacklog>.Instance);

    private async Task<string> ScrapeAsync()
    {
        using var text = new MemoryStream();
        await _export.Registry.CollectAndExportAsTextAsync(text, Ct);
        return System.Text.Encoding.UTF8.GetString(text.ToArray());
    }

    private static readonly IReadOnlyList<DeliveryMetrics.Backlog> OnePending = [new(Subscription, 1, 12)];

    [Fact]
    public async Task A_read_begun_before_the_delivery_was_recorded_cannot_replace_a_later_read_that_saw_it_delivered()
    {
        // The dispatcher's read starts while the delivery is still queued, and its answer is slow to come back.
        var dispatcherAnswer = new TaskCompletionSource<IReadOnlyList<DeliveryMetrics.Backlog>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reads = 0;
        using var backlog = Backlog((_, _) => Interlocked.Increment(ref reads) == 1 ? dispatcherAnswer.Task : Task.FromResult<IReadOnlyList<DeliveryMetrics.Backlog>>([]));

        var dispatcherRefresh = backlog.RefreshAsync(Ct);
        // Meanwhile the delivery is recorded and a scrape asks for the backlog, which is now empty.
        var scrapeRefresh = backlog.RefreshAsync(Ct);
        Assert.False(scrapeRefresh.IsCompleted);

        dispatcherAnswer.SetResult(OnePending);
        await Task.WhenAll(dispatcherRefresh, scrapeRefresh);

        // The scrape's read ran after the dispatcher's had been written, so the gauge shows what the scrape saw.
        Assert.Equal(2, reads);
        Assert.DoesNotContain($"{DeliveryMetrics.Pending}{{subscription=\"{Subscription}\"}}", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queued_delivery_shows_in_the_gauge_and_leaves_it_once_delivered()
    {
        var current = OnePending;
        using var backlog = Backlog((_, _) => Task.FromResult(current));

        await backlog.RefreshAsync(Ct);
        Assert.Contains($"{DeliveryMetrics.Pending}{{subscription=\"{Subscription}\"}} 1", await ScrapeAsync(), StringComparison.Ordinal);

        current = [];
        await backlog.RefreshAsync(Ct);
        Assert.DoesNotContain($"{DeliveryMetrics.Pending}{{subscription=\"{Subscription}\"}}", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dispatcher_reads_again_only_when_the_last_read_by_either_caller_is_15_seconds_old()
    {
        var reads = 0;
        using var backlog = Backlog((_, _) =>
        {
            reads++;
            return Task.FromResult<IReadOnlyList<DeliveryMetrics.Backlog>>([]);
        });

        await backlog.RefreshAsync(Ct); // a scrape
        _time.Advance(TimeSpan.FromSeconds(14));
        await backlog.RefreshWhenDueAsync(Ct);
        Assert.Equal(1, reads);

        _time.Advance(TimeSpan.FromSeconds(1));
        await backlog.RefreshWhenDueAsync(Ct);
        Assert.Equal(2, reads);
    }

    [Fact]
    public async Task A_read_that_fails_keeps_the_last_values()
    {
        var fail = false;
        using var backlog = Backlog((_, _) => fail ? throw new TimeoutException("the database did not answer") : Task.FromResult(OnePending));

        await backlog.RefreshAsync(Ct);
        fail = true;
        await backlog.RefreshAsync(Ct);

        Assert.Contains($"{DeliveryMetrics.Pending}{{subscription=\"{Subscription}\"}} 1", await ScrapeAsync(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _export.Dispose();
    }
}
