using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>
/// PostgreSQL only: LISTENs, on a dedicated connection, for the notices that migration 0009's triggers send when a key
/// or an agency changes in any instance's transaction, and empties this instance's <see cref="ApiKeyLookup"/> on each.
/// While it is not connected (starting, after a failure, reconnecting) the lookup is told to distrust its cache, so
/// every request reads its key from the database and nothing stale is served. An idle connection is checked every
/// <see cref="HeartbeatInterval"/>, so a connection that died silently is noticed without waiting for TCP to give up.
/// </summary>
public sealed class ApiKeyChangeListener(Database database, ApiKeyLookup lookup, ILogger<ApiKeyChangeListener> logger) : BackgroundService
{
    public const string Channel = "intelsharing_api_keys";

    /// <summary>The listening session's <c>application_name</c> in <c>pg_stat_activity</c>.</summary>
    public const string ApplicationName = "intelsharing-api-key-listener";
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Dialect.Provider != DatabaseProvider.Postgres)
        {
            return;
        }

        var retryDelay = FirstRetryDelay;
        var reconnecting = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var notifications = await PostgresNotifications.ListenAsync(database, ApplicationName, Channel, _ => lookup.Invalidate(), stoppingToken);

                // From here on every committed change is heard; rows cached before now are dropped by Trust.
                lookup.Trust();
                if (reconnecting)
                {
                    logger.LogInformation("Listening for API key changes again; the key cache is back in use.");
                    reconnecting = false;
                }

                retryDelay = FirstRetryDelay;
                await notifications.RunAsync(HeartbeatInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                reconnecting = true;
                logger.LogWarning(ex, "Listening for API key changes failed; keys are read from the database on every request until it reconnects (next try in {Delay}).", retryDelay);
            }
            finally
            {
                // Stopping, failing or cancelled alike: until the next LISTEN succeeds a notice could be missed.
                lookup.Distrust();
            }

            try
            {
                // Pacing reconnection attempts is not business time: the real clock, also under a test's fake clock.
                await Task.Delay(retryDelay, TimeProvider.System, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, LongestRetryDelay.Ticks));
        }
    }
}
