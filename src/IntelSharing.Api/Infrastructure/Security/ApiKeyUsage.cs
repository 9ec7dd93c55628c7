using System.Collections.Concurrent;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>
/// Keeps <c>api_keys.last_used_at</c> current without a database write per request: authentication only
/// notes the time in memory, and <see cref="FlushAsync"/> (every <see cref="FlushInterval"/>, and at shutdown)
/// writes it, at most once per <see cref="RecordInterval"/> per key. A failed write is logged and the times
/// are kept for the next flush rather than dropped.
/// </summary>
public sealed class ApiKeyUsage(Database database, TimeProvider time, ILogger<ApiKeyUsage> logger) : IDisposable
{
    public static readonly TimeSpan RecordInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _pending = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _written = new();
    private readonly SemaphoreSlim _oneFlushAtATime = new(1, 1);

    public void Dispose() => _oneFlushAtATime.Dispose();

    /// <summary>Called on every successful authentication; costs a dictionary lookup.</summary>
    public void Touch(Guid keyId)
    {
        var now = time.UtcNowMicros();
        if (_written.TryGetValue(keyId, out var written) && now - written < RecordInterval)
        {
            return;
        }

        _pending.AddOrUpdate(keyId, now, (_, earlier) => earlier > now ? earlier : now);
    }

    /// <summary>Writes the noted times; returns how many keys were written.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        await _oneFlushAtATime.WaitAsync(cancellationToken);
        try
        {
            var batch = new List<(Guid KeyId, DateTimeOffset UsedAt)>();
            foreach (var keyId in _pending.Keys)
            {
                if (_pending.TryRemove(keyId, out var usedAt))
                {
                    batch.Add((keyId, usedAt));
                }
            }

            if (batch.Count == 0)
            {
                return 0;
            }

            try
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
                var transaction = write.Transaction;
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE api_keys SET last_used_at = @UsedAt WHERE id = @KeyId AND (last_used_at IS NULL OR last_used_at < @UsedAt)",
                    batch.Select(b => new { b.KeyId, b.UsedAt }), transaction, cancellationToken: cancellationToken));
                await write.CommitAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                foreach (var (keyId, usedAt) in batch)
                {
                    _pending.AddOrUpdate(keyId, usedAt, (_, later) => later > usedAt ? later : usedAt);
                }

                logger.LogWarning(ex, "Recording last use of {Count} API keys failed; kept for the next flush.", batch.Count);
                throw;
            }

            foreach (var (keyId, usedAt) in batch)
            {
                _written[keyId] = usedAt;
            }

            return batch.Count;
        }
        finally
        {
            _oneFlushAtATime.Release();
        }
    }
}

/// <summary>Flushes <see cref="ApiKeyUsage"/> periodically and once more when the host stops.</summary>
public sealed class ApiKeyUsageFlusher(ApiKeyUsage usage, TimeProvider time, ILogger<ApiKeyUsageFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ApiKeyUsage.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushLoggingFailuresAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the final flush happens in StopAsync.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushLoggingFailuresAsync(cancellationToken);
    }

    private async Task FlushLoggingFailuresAsync(CancellationToken cancellationToken)
    {
        try
        {
            await usage.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // ApiKeyUsage logged the failure and kept the times; nothing more to do until the next tick.
            logger.LogDebug(ex, "API key usage flush failed.");
        }
    }
}
