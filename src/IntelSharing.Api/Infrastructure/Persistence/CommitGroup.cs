using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// The writes of one kind of commit group (ADR 17): what the items of a group write inside their shared transaction, and
/// each item's own answer. It must not commit; <see cref="CommitGroup{TItem, TResult, TWriter}"/> does, once for the group.
/// </summary>
public interface ICommitGroupWriter<TItem, TResult>
{
    /// <summary>The group's name: its settings are <c>CommitGroups__{Name}__…</c>, over the shared <c>CommitGroups__…</c>.</summary>
    static abstract string Name { get; }

    /// <summary>
    /// This kind's default for <see cref="CommitGroupOptions.MaxConcurrent"/>, under what the settings say. A kind whose
    /// groups are small and quick gathers more per commit, and costs less per item, with one committing at a time.
    /// </summary>
    static virtual int DefaultMaxConcurrent => CommitGroupOptions.DefaultMaxConcurrent;

    /// <summary>Writes <paramref name="items"/> and returns one result per item, in the same order.</summary>
    Task<IReadOnlyList<TResult>> WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<TItem> items, CancellationToken cancellationToken);
}

/// <summary>
/// Group commit (ADR 17). Requests hand their writes to the group and wait; the group gathers what arrives within
/// <see cref="CommitGroupOptions.Window"/> of the first waiting item (at most <see cref="CommitGroupOptions.MaxSize"/>),
/// writes it in one transaction, commits once — one WAL flush, one fsync on SQLite — and only then answers every
/// item, so nothing is acknowledged before it is durable. When the database cannot be reached, every item of the
/// group gets the same exception (a 503); when the group fails for any other reason (one bad row, a deadlock with
/// another instance), each item is written again alone, so a bad row fails only its own request.
/// </summary>
public sealed class CommitGroup<TItem, TResult, TWriter> : IAsyncDisposable
    where TWriter : ICommitGroupWriter<TItem, TResult>
{
    private readonly Channel<Waiting> _queue = Channel.CreateUnbounded<Waiting>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Database _database;
    private readonly TWriter _writer;
    private readonly ILogger _logger;
    private readonly CommitGroupOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly Task _loop;
    private long _groups;
    private long _items;
    private int _largest;

    private int _unanswered;

    public CommitGroup(Database database, TWriter writer, IOptionsMonitor<CommitGroupOptions> options, ILogger<CommitGroup<TItem, TResult, TWriter>> logger)
    {
        _database = database;
        _writer = writer;
        _logger = logger;
        _options = options.Get(TWriter.Name);
        _slots = new SemaphoreSlim(_options.MaxConcurrent, _options.MaxConcurrent);
        // The loop outlives the request that happens to build the group first: it must not carry that request's
        // activity, logging scope or cancellation into every later group.
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(GatherLoopAsync);
        }
    }

    /// <summary>Groups committed so far, and the items in them: what a test or an operator reads to see groups form.</summary>
    public (long Groups, long Items, int Largest) Committed => (Interlocked.Read(ref _groups), Interlocked.Read(ref _items), Volatile.Read(ref _largest));

    /// <summary>Items handed in and not answered yet (queued, gathering, or committing).</summary>
    public int Unanswered => Volatile.Read(ref _unanswered);

    /// <summary>
    /// Writes <paramref name="item"/> with whatever else is waiting and returns its result once the group has committed.
    /// Not cancellable: other requests' writes share the transaction, and an item once handed in may be committed.
    /// </summary>
    public Task<TResult> CommitAsync(TItem item)
    {
        var waiting = new Waiting(item, Stopwatch.GetTimestamp(), new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(waiting))
        {
            return Task.FromException<TResult>(new ObjectDisposedException(TWriter.Name, "The service is stopping."));
        }

        Interlocked.Increment(ref _unanswered);
        return waiting.Answer.Task;
    }

    private async Task GatherLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            // While every slot is committing, items queue up: under load the next group is already full.
            await _slots.WaitAsync();
            var group = await GatherAsync(reader);
            if (group.Count == 0)
            {
                _slots.Release();
                continue;
            }

            _ = CommitAndReleaseAsync(group);
        }

        for (var i = 0; i < _options.MaxConcurrent; i++)
        {
            await _slots.WaitAsync();
        }
    }

    private async Task<List<Waiting>> GatherAsync(ChannelReader<Waiting> reader)
    {
        var group = new List<Waiting>(Math.Min(_options.MaxSize, 64));
        while (group.Count < _options.MaxSize && reader.TryRead(out var next))
        {
            group.Add(next);
            if (group.Count == 1 && _options.Window > TimeSpan.Zero)
            {
                // The window runs from when the first item arrived: an item that already waited for a free slot waits no longer.
                var remaining = _options.Window - Stopwatch.GetElapsedTime(next.Arrived);
                await WaitForMoreAsync(reader, remaining, group);
            }
        }

        return group;
    }

    private async Task WaitForMoreAsync(ChannelReader<Waiting> reader, TimeSpan remaining, List<Waiting> group)
    {
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }

        // Real time, not TimeProvider: the window bounds how long a request waits for company, it is not a business
        // time, and a test's frozen clock would hold every request forever.
        using var window = new CancellationTokenSource(remaining);
        while (group.Count < _options.MaxSize)
        {
            // Most windows close on their timer, so the wait's end is awaited without throwing: an exception thrown and
            // caught per group cost about 2 % of the API's CPU under read load, on the one loop that gathers every group.
            var more = reader.WaitToReadAsync(window.Token).AsTask();
            await ((Task)more).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!more.IsCompletedSuccessfully || !more.Result)
            {
                return;
            }

            while (group.Count < _options.MaxSize && reader.TryRead(out var next))
            {
                group.Add(next);
            }
        }
    }

    private async Task CommitAndReleaseAsync(List<Waiting> group)
    {
        try
        {
            await CommitGroupAsync(group);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task CommitGroupAsync(List<Waiting> group)
    {
        IReadOnlyList<TResult> results;
        try
        {
            results = await WriteInOneTransactionAsync(group.ConvertAll(w => w.Item));
        }
        catch (Exception exception) when ((group.Count > 1 && !DatabaseFailures.IsUnavailable(exception)) || DatabaseFailures.IsConflictWithOtherTransactions(exception))
        {
            CommitGroupLog.GroupFailed(_logger, group.Count, exception.GetType().Name);
            foreach (var waiting in group)
            {
                await CommitAloneAsync(waiting);
            }

            return;
        }
        catch (Exception exception)
        {
            foreach (var waiting in group)
            {
                Fail(waiting, exception);
            }

            return;
        }

        Counted(group.Count);
        for (var i = 0; i < group.Count; i++)
        {
            Answer(group[i], results[i]);
        }
    }

    private async Task CommitAloneAsync(Waiting waiting)
    {
        try
        {
            var result = await WriteInOneTransactionAsync([waiting.Item]);
            Counted(1);
            Answer(waiting, result[0]);
        }
        catch (Exception exception)
        {
            Fail(waiting, exception);
        }
    }

    private async Task<IReadOnlyList<TResult>> WriteInOneTransactionAsync(List<TItem> items)
    {
        // No request's token: the transaction is every item's, and one client going away must not roll back the others.
        await using var connection = await _database.OpenAsync(CancellationToken.None);
        await using var write = await Database.BeginWriteAsync(connection, CancellationToken.None);
        var transaction = write.Transaction;
        var results = await _writer.WriteAsync(connection, transaction, items, CancellationToken.None);
        if (results.Count != items.Count)
        {
            throw new InvalidOperationException($"{TWriter.Name} answered {results.Count} results for {items.Count} items.");
        }

        await write.CommitAsync(CancellationToken.None);
        return results;
    }

    private void Answer(Waiting waiting, TResult result)
    {
        Interlocked.Decrement(ref _unanswered);
        waiting.Answer.TrySetResult(result);
    }

    private void Fail(Waiting waiting, Exception exception)
    {
        Interlocked.Decrement(ref _unanswered);
        waiting.Answer.TrySetException(exception);
    }

    private void Counted(int items)
    {
        Interlocked.Increment(ref _groups);
        Interlocked.Add(ref _items, items);
        int largest;
        while (items > (largest = Volatile.Read(ref _largest)) && Interlocked.CompareExchange(ref _largest, items, largest) != largest)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        _slots.Dispose();
    }

    private sealed record Waiting(TItem Item, long Arrived, TaskCompletionSource<TResult> Answer);
}

internal static partial class CommitGroupLog
{
    // The exception's type only: its message may quote a row's values.
    [LoggerMessage(Level = LogLevel.Warning, Message = "A commit group of {Size} failed ({Error}); writing each of its items in a transaction of its own")]
    public static partial void GroupFailed(ILogger logger, int size, string error);
}

/// <summary>
/// Bound from the <c>CommitGroups</c> section (<c>CommitGroups__Window</c>, <c>CommitGroups__MaxSize</c>,
/// <c>CommitGroups__MaxConcurrent</c>), then from the group's own (<c>CommitGroups__Submissions__Window</c>…).
/// </summary>
public sealed class CommitGroupOptions
{
    public const string Section = "CommitGroups";

    /// <summary>Registers the settings of the group <typeparamref name="TWriter"/> writes, validated at start.</summary>
    public static void Register<TItem, TResult, TWriter>(IServiceCollection services)
        where TWriter : class, ICommitGroupWriter<TItem, TResult>
    {
        services.AddOptions<CommitGroupOptions>(TWriter.Name).Configure<IConfiguration>((options, configuration) =>
        {
            options.MaxConcurrent = TWriter.DefaultMaxConcurrent;
            configuration.GetSection(Section).Bind(options);
            configuration.GetSection($"{Section}:{TWriter.Name}").Bind(options);
        }).ValidateOnStart();
        services.AddSingleton<TWriter>();
        services.AddSingleton<CommitGroup<TItem, TResult, TWriter>>();
    }

    /// <summary>
    /// How long the first item of a group waits for others to join: the latency a lone request pays for sharing its
    /// commit. Under load groups fill while the previous ones commit, and nobody waits this long.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Items per transaction; a larger group holds its row locks longer and sends a larger batch.</summary>
    public int MaxSize { get; set; } = 64;

    public const int DefaultMaxConcurrent = 2;

    /// <summary>
    /// Groups of one kind committing at once per instance (each on its own connection); a kind may default otherwise
    /// (<see cref="ICommitGroupWriter{TItem, TResult}.DefaultMaxConcurrent"/>).
    /// </summary>
    public int MaxConcurrent { get; set; } = DefaultMaxConcurrent;
}

public sealed class CommitGroupOptionsValidator : IValidateOptions<CommitGroupOptions>
{
    public ValidateOptionsResult Validate(string? name, CommitGroupOptions options)
    {
        var failures = new List<string>();
        var prefix = string.IsNullOrEmpty(name) ? CommitGroupOptions.Section : $"{CommitGroupOptions.Section}__{name}";
        if (options.Window < TimeSpan.Zero || options.Window > TimeSpan.FromSeconds(10))
        {
            failures.Add($"{prefix}__Window must be from 00:00:00 to 00:00:10 (a millisecond or two in production), not {options.Window}.");
        }

        if (options.MaxSize is < 1 or > 1000)
        {
            failures.Add($"{prefix}__MaxSize must be from 1 to 1000, not {options.MaxSize}.");
        }

        if (options.MaxConcurrent is < 1 or > 16)
        {
            failures.Add($"{prefix}__MaxConcurrent must be from 1 to 16, not {options.MaxConcurrent}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
