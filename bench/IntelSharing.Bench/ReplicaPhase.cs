using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Npgsql;

namespace IntelSharing.Bench;

/// <summary>
/// Issue 11 item 7: three API replicas (Release, PostgreSQL, delivery on) behind nginx on one database, under load,
/// one of them killed with SIGKILL mid-run and restarted on its port. It asserts what PRODUCT.md promises of several
/// instances — every acknowledged alert stored once however its retries were routed, every delivery made at least
/// once to each matching partner with duplicates only where the kill explains them, no delivery left in flight past
/// its lease, a revoked key refused by the other replicas within a second — and writes the figures, measured or not,
/// to bench/results/replicas*.md and .json. A broken promise is a violation and fails the run (exit code 1).
/// </summary>
public sealed class ReplicaPhase(SuiteOptions options, Postgres postgres)
{
    private const string DatabaseName = "bench_replicas";
    private const int Replicas = 3;

    /// <summary>The replica killed with SIGKILL when half the alerts are acknowledged; restarted on its port after <see cref="Downtime"/>.</summary>
    private const int Killed = 2;

    /// <summary>The replica a key is revoked through; the others must refuse it within <see cref="RevocationBound"/>.</summary>
    private const int RevokedThrough = 0;

    /// <summary>Shorter than the 60 s default so the run waits less for the killed replica's leases; the mechanism is the same.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RevocationBound = TimeSpan.FromSeconds(1);

    /// <summary>A delivery still in flight this long after its lease ended counts as stuck (the dispatcher polls every second).</summary>
    private static readonly TimeSpan StuckAfterLease = TimeSpan.FromSeconds(10);

    /// <summary>Partners: two take every alert, one only smuggling alerts, one only cyber incidents.</summary>
    private static readonly string[][] PartnerCategories = [[], [], ["migrant_smuggling"], ["cyber_incident"]];

    private readonly byte[][] _bodies = AlertBodies.Many(256);
    private readonly ConcurrentDictionary<string, Guid> _acknowledged = new();
    private readonly ConcurrentDictionary<string, long> _answers = new();
    private readonly ConcurrentDictionary<string, long> _servedBy = new();
    private readonly ConcurrentBag<string> _violations = [];
    private long _retriesAfterFailure;
    private long _retriesOnAnotherReplica;
    private long _conflictingIds;
    private long _replays;
    private long _replaysMarked;
    private long _replaysOnAnotherReplica;
    private long _concurrentPairs;
    private long _passedOn;
    private int[] _ports = [];

    private int AlertCount => options.Quick ? 3_000 : 20_000;

    private int Connections => options.Quick ? 16 : 48;

    public async Task<ReplicaResult> RunAsync()
    {
        var clock = Stopwatch.StartNew();
        await postgres.CreateDatabaseAsync(DatabaseName);
        var connection = new NpgsqlConnectionStringBuilder(postgres.ApiConnectionString(DatabaseName)) { MaxPoolSize = 60 }.ToString();
        var settings = HostProcess.ApiSettings(connection, dispatcher: true);
        settings["Delivery__Lease"] = Lease.ToString("c", CultureInfo.InvariantCulture);
        var operatorKey = await HostProcess.BootstrapAdminAsync(options.ApiDll, settings);

        var ports = _ports = Enumerable.Range(0, Replicas).Select(_ => HostProcess.FreePort()).ToArray();
        var replicas = ports.Select(p => HostProcess.Start(options.ApiDll, [], settings, p)).ToArray();
        var receivers = new List<PartnerReceiver>();
        try
        {
            await Task.WhenAll(replicas.Select(r => r.WaitUntilReadyAsync(TimeSpan.FromSeconds(120))));
            for (var i = 0; i < PartnerCategories.Length; i++)
            {
                receivers.Add(await PartnerReceiver.StartAsync());
            }

            await using var nginx = await Nginx.StartAsync(ports);
            Log($"3 replicas on ports {string.Join(", ", ports)} behind nginx on {nginx.BaseAddress}");
            var community = new Community(nginx.BaseAddress, operatorKey);
            var border = await community.BorderPoliceAsync();
            var cert = await community.CertAsync();
            for (var i = 0; i < PartnerCategories.Length; i++)
            {
                await community.SubscribeAsync(await community.PartnerAsync(i), receivers[i].Url, "Replicas run", PartnerCategories[i]);
            }

            var analysts = await community.RegisterAsync("Frontex — Risk Analysis Unit", "PL", "eu_agency", "alerts:read");
            var probe = await community.IssueKeyAsync(analysts.Id, "Revocation probe", "alerts:read");

            var result = new ReplicaResult { Alerts = AlertCount, Connections = Connections, LeaseSeconds = Lease.TotalSeconds, DowntimeSeconds = Downtime.TotalSeconds };
            using var cancelMonitor = new CancellationTokenSource();
            Task<double>? monitor = null;
            // Set by the worker that reaches half; awaited by the revocation (which needs the restarted replica) and at the end.
            var killStarted = new TaskCompletionSource<Task<List<(Guid Id, DateTime LeaseUntil)>>>(TaskCreationOptions.RunContinuationsAsynchronously);
            Task? revocation = null;
            var restartedAfter = TimeSpan.Zero;
            var done = 0;

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Connections, UseProxy = false, AllowAutoRedirect = false, UseCookies = false };
            using var client = new HttpClient(handler) { BaseAddress = nginx.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            var load = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < AlertCount)
                {
                    var body = index % _bodies.Length;
                    var key = $"replicas-{index}";
                    var submitter = AlertBodies.IsSmuggling(body) ? border : cert;
                    if (index % 25 == 12)
                    {
                        // The same key twice at once: nginx sends the two to different replicas.
                        Interlocked.Increment(ref _concurrentPairs);
                        var pair = await Task.WhenAll(SubmitUntilAcknowledgedAsync(client, submitter, key, body), SubmitUntilAcknowledgedAsync(client, submitter, key, body));
                        if (pair[0] is { } a && pair[1] is { } b && a.Id != b.Id)
                        {
                            _violations.Add($"Key {key} sent twice at once was answered with two alerts: {a.Id} ({a.Replica}) and {b.Id} ({b.Replica}).");
                        }
                    }
                    else if (await SubmitUntilAcknowledgedAsync(client, submitter, key, body) is { } first && index % 10 == 0)
                    {
                        await ReplayAsync(client, submitter, key, body, first);
                    }

                    var count = Interlocked.Increment(ref done);
                    if (count == AlertCount / 2)
                    {
                        Log($"{count} alerts submitted: kill -9 replica {Killed} (pid {replicas[Killed].Id})");
                        monitor = MonitorLeasesAsync(cancelMonitor.Token);
                        killStarted.SetResult(KillAndRestartAsync(replicas, ports, settings, elapsed => restartedAfter = elapsed));
                    }
                    else if (count == AlertCount * 3 / 4)
                    {
                        revocation = RevokeAsync(killStarted.Task.Unwrap(), replicas, operatorKey, analysts, probe, result);
                    }
                }
            }));
            load.Stop();
            var inFlightAtKill = await killStarted.Task.Unwrap();
            await revocation!;
            result.LoadSeconds = load.Elapsed.TotalSeconds;
            result.RestartedAfterSeconds = restartedAfter.TotalSeconds;
            Log($"load done: {_acknowledged.Count} of {AlertCount} keys acknowledged in {load.Elapsed.TotalSeconds:F1} s");

            var expected = ExpectedPerPartner();
            var deliveryClock = Stopwatch.StartNew();
            var deadline = Lease + TimeSpan.FromSeconds(options.Quick ? 120 : 300);
            while (deliveryClock.Elapsed < deadline && !expected.Select((ids, p) => ids.IsSubsetOf(receivers[p].Receipts.Select(r => r.AlertId))).All(x => x))
            {
                await Task.Delay(500);
            }

            result.DeliveriesCompleteAfterLoadSeconds = deliveryClock.Elapsed.TotalSeconds;
            await cancelMonitor.CancelAsync();
            result.LongestOverdueInFlightSeconds = await monitor!;
            await CheckStoredAsync(result);
            await CheckDeliveriesAsync(result, receivers, expected, inFlightAtKill);
            result.Answers = new SortedDictionary<string, long>(_answers);
            result.AcknowledgedByReplica = new SortedDictionary<string, long>(_servedBy);
            result.RetriesAfterFailure = _retriesAfterFailure;
            result.RetriesAnsweredByAnotherReplica = _retriesOnAnotherReplica;
            result.DeliberateReplays = _replays;
            result.DeliberateReplaysMarkedReplayed = _replaysMarked;
            result.DeliberateReplaysOnAnotherReplica = _replaysOnAnotherReplica;
            result.ConcurrentPairs = _concurrentPairs;
            result.PassedOnByNginx = _passedOn;
            if (_replaysMarked != _replays)
            {
                _violations.Add($"{_replays - _replaysMarked} of {_replays} requests sent again after their 201 were not marked Idempotent-Replayed.");
            }

            if (_conflictingIds > 0)
            {
                _violations.Add($"{_conflictingIds} answers gave a key another alert id than its first 201.");
            }

            result.Violations = [.. _violations];
            result.DurationSeconds = clock.Elapsed.TotalSeconds;
            return result;
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }

            foreach (var receiver in receivers)
            {
                await receiver.DisposeAsync();
            }
        }
    }

    private sealed record Acknowledgement(Guid Id, string Replica);

    /// <summary>
    /// Sends the submission until a 201, as a careful client does: a 502 (its replica died with the request), a 503 or
    /// a dropped connection is retried with the same key, and nginx's round robin sends the retry to another replica.
    /// </summary>
    private async Task<Acknowledgement?> SubmitUntilAcknowledgedAsync(HttpClient client, Member submitter, string key, int body)
    {
        string? failedOn = null;
        for (var attempt = 1; attempt <= 40; attempt++)
        {
            var (status, id, replica, _) = await SendAsync(client, submitter, key, body);
            if (status == HttpStatusCode.Created)
            {
                Acknowledge(key, id, replica);
                if (failedOn is not null && failedOn != replica)
                {
                    Interlocked.Increment(ref _retriesOnAnotherReplica);
                }

                return new Acknowledgement(id, replica);
            }

            Interlocked.Increment(ref _retriesAfterFailure);
            failedOn = replica;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)));
        }

        _violations.Add($"Key {key} got no 201 in 40 attempts.");
        return null;
    }

    /// <summary>
    /// A client that lost the answer and sends the same request again: the original alert, marked as a replay. Sent
    /// again itself, like any submission, when its own answer is lost (a 502 while a replica dies).
    /// </summary>
    private async Task ReplayAsync(HttpClient client, Member submitter, string key, int body, Acknowledgement first)
    {
        Interlocked.Increment(ref _replays);
        for (var attempt = 1; attempt <= 40; attempt++)
        {
            var (status, id, replica, replayed) = await SendAsync(client, submitter, key, body);
            if (status == HttpStatusCode.Created)
            {
                Acknowledge(key, id, replica);
                Interlocked.Add(ref _replaysMarked, replayed ? 1 : 0);
                Interlocked.Add(ref _replaysOnAnotherReplica, replica != first.Replica ? 1 : 0);
                return;
            }

            Interlocked.Increment(ref _retriesAfterFailure);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)));
        }

        _violations.Add($"Key {key} sent again after its 201 got no 201 in 40 attempts.");
    }

    private async Task<(HttpStatusCode? Status, Guid Id, string Replica, bool Replayed)> SendAsync(HttpClient client, Member submitter, string key, int body)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = new ByteArrayContent(_bodies[body]) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", submitter.Key);
        message.Headers.Add("Idempotency-Key", key);
        try
        {
            using var response = await client.SendAsync(message);
            await response.Content.LoadIntoBufferAsync();
            var replica = ReplicaOf(response);
            if (response.Headers.TryGetValues(Nginx.UpstreamHeader, out var upstream) && string.Join(", ", upstream).Contains(',', StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _passedOn);
            }

            _answers.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
            var location = response.Headers.Location?.OriginalString ?? string.Empty;
            var id = Guid.TryParse(location.AsSpan(location.LastIndexOf('/') + 1), out var parsed) ? parsed : Guid.Empty;
            if ((int)response.StatusCode >= 500 && response.StatusCode is not (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable))
            {
                _violations.Add($"Key {key}: {(int)response.StatusCode} from {replica}: {await response.Content.ReadAsStringAsync()}");
            }
            else if ((int)response.StatusCode is >= 400 and < 500)
            {
                _violations.Add($"Key {key}: {(int)response.StatusCode} from {replica} (a retry of a valid submission must not be refused): {await response.Content.ReadAsStringAsync()}");
            }

            return (response.StatusCode, id, replica, response.Headers.Contains("Idempotent-Replayed"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            _answers.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
            return (null, Guid.Empty, "none", false);
        }
    }

    /// <summary>
    /// The replica that answered, by nginx's <c>$upstream_addr</c>: "127.0.0.1:p1, 127.0.0.1:p2" when it could not
    /// connect to the first and passed the request on, so the last one answered.
    /// </summary>
    private string ReplicaOf(HttpResponseMessage response)
    {
        var addresses = response.Headers.TryGetValues(Nginx.UpstreamHeader, out var values) ? string.Join(", ", values) : string.Empty;
        var last = addresses.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        var port = last is null ? -1 : int.Parse(last[(last.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        var index = Array.IndexOf(_ports, port);
        return index < 0 ? "none" : $"replica {index}";
    }

    private void Acknowledge(string key, Guid id, string replica)
    {
        if (_acknowledged.GetOrAdd(key, id) != id)
        {
            Interlocked.Increment(ref _conflictingIds);
        }

        _servedBy.AddOrUpdate(replica, 1, (_, n) => n + 1);
    }

    /// <summary>SIGKILL, the deliveries in flight at that moment (anyone's), then a restart on the same port after the downtime.</summary>
    private async Task<List<(Guid Id, DateTime LeaseUntil)>> KillAndRestartAsync(HostProcess[] replicas, int[] ports, Dictionary<string, string> settings, Action<TimeSpan> restarted)
    {
        var killedAt = Stopwatch.StartNew();
        await replicas[Killed].KillNowAsync();
        var inFlight = await InFlightAsync();
        await replicas[Killed].DisposeAsync();
        await Task.Delay(Downtime);
        replicas[Killed] = HostProcess.Start(options.ApiDll, [], settings, ports[Killed]);
        await replicas[Killed].WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
        restarted(killedAt.Elapsed);
        Log($"replica {Killed} restarted on port {ports[Killed]}, ready {killedAt.Elapsed.TotalSeconds:F1} s after the kill; {inFlight.Count} deliveries were in flight at the kill");
        return inFlight;
    }

    private async Task<List<(Guid Id, DateTime LeaseUntil)>> InFlightAsync()
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString(DatabaseName));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, lease_until FROM deliveries WHERE state = 'in_flight'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(Guid, DateTime)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetGuid(0), reader.GetDateTime(1)));
        }

        return rows;
    }

    /// <summary>From the kill on, twice a second: how long past its lease the most overdue in-flight delivery is.</summary>
    private async Task<double> MonitorLeasesAsync(CancellationToken stop)
    {
        double longest = 0;
        await using var connection = new NpgsqlConnection(postgres.ConnectionString(DatabaseName));
        await connection.OpenAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            await using var command = new NpgsqlCommand(
                "SELECT COALESCE(EXTRACT(EPOCH FROM max(clock_timestamp() - lease_until)), 0)::float8 FROM deliveries WHERE state = 'in_flight' AND lease_until < clock_timestamp()",
                connection);
            longest = Math.Max(longest, (double)(await command.ExecuteScalarAsync(CancellationToken.None))!);
            try
            {
                await Task.Delay(500, stop);
            }
            catch (TaskCanceledException)
            {
                break;
            }
        }

        return longest;
    }

    /// <summary>
    /// After the killed replica is back: a key in every replica's cache (one request to each), revoked through one
    /// replica, then asked for by the others every 10 ms until they refuse it.
    /// </summary>
    private async Task RevokeAsync(Task restart, HostProcess[] replicas, string operatorKey, Member agency, (Guid Id, string Key) probe, ReplicaResult result)
    {
        await restart;
        // A replica just restarted under load may take seconds to answer its first requests; the revocation is timed by the polling, not by this.
        var clients = replicas.Select(r => new HttpClient { BaseAddress = r.BaseAddress, Timeout = TimeSpan.FromSeconds(60) }).ToArray();
        try
        {
            foreach (var (client, index) in clients.Select((c, i) => (c, i)))
            {
                var warm = await ProbeAsync(client, probe.Key);
                if (warm != HttpStatusCode.OK)
                {
                    _violations.Add($"The probe key before its revocation got {(int)warm} from replica {index}.");
                }
            }

            using var revoke = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/agencies/{agency.Id}/keys/{probe.Id}");
            revoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
            var sent = Stopwatch.StartNew();
            using var revoked = await clients[RevokedThrough].SendAsync(revoke);
            var committedAfter = sent.Elapsed;
            if (revoked.StatusCode != HttpStatusCode.NoContent)
            {
                _violations.Add($"Revoking the probe key through replica {RevokedThrough} answered {(int)revoked.StatusCode}.");
                return;
            }

            var answered = Stopwatch.StartNew();
            var same = await ProbeAsync(clients[RevokedThrough], probe.Key);
            if (same != HttpStatusCode.Unauthorized)
            {
                _violations.Add($"The replica that revoked the key answered {(int)same} to it right after.");
            }

            // Probes go out every 10 ms (up to four at once) without waiting for each other, each timed from when it was SENT: under load a
            // probe's answer can take longer than the propagation it measures, and a probe sent before the change but
            // answered after it says nothing about the promise, which is about requests made after the revocation.
            var refusals = await Task.WhenAll(Enumerable.Range(0, Replicas).Where(i => i != RevokedThrough).Select(async i =>
            {
                // At most four in flight: each refusal is a failed authentication from this address, and twenty in a
                // window would (rightly) throttle the load generator's own submissions from the same address.
                using var inFlight = new SemaphoreSlim(4);
                var probes = new List<Task<(double SentMs, HttpStatusCode Status)>>();
                while (answered.Elapsed < TimeSpan.FromSeconds(10) && !probes.Any(p => p.IsCompletedSuccessfully && p.Result.Status == HttpStatusCode.Unauthorized))
                {
                    if (!await inFlight.WaitAsync(TimeSpan.FromMilliseconds(10)))
                    {
                        continue;
                    }

                    var sentMs = answered.Elapsed.TotalMilliseconds;
                    probes.Add(Task.Run(async () =>
                    {
                        try
                        {
                            return (sentMs, await ProbeAsync(clients[i], probe.Key));
                        }
                        finally
                        {
                            inFlight.Release();
                        }
                    }));
                    await Task.Delay(10);
                }

                var answers = await Task.WhenAll(probes);
                var firstRefused = answers.Where(a => a.Status == HttpStatusCode.Unauthorized).Select(a => a.SentMs).DefaultIfEmpty(double.PositiveInfinity).Min();
                var lastAccepted = answers.Where(a => a.Status == HttpStatusCode.OK).Select(a => a.SentMs).DefaultIfEmpty(0).Max();
                return (Replica: i, Milliseconds: Math.Max(lastAccepted, Math.Min(firstRefused, 10_000)), FirstRefused: firstRefused);
            }));
            result.RevocationCommitMilliseconds = committedAfter.TotalMilliseconds;
            result.RevocationRefusedAfterMilliseconds = refusals.ToDictionary(r => $"replica {r.Replica}", r => Math.Round(r.Milliseconds, 1));
            foreach (var (replica, milliseconds, _) in refusals.Where(r => r.Milliseconds > RevocationBound.TotalMilliseconds))
            {
                _violations.Add($"Replica {replica} accepted the key revoked through replica {RevokedThrough} in a request sent {milliseconds:F0} ms after the revocation (bound {RevocationBound.TotalMilliseconds} ms).");
            }

            Log($"key revoked through replica {RevokedThrough} ({committedAfter.TotalMilliseconds:F0} ms); refused by " +
                string.Join(", ", refusals.Select(r => $"replica {r.Replica} for every probe sent from {r.Milliseconds:F0} ms on (first refused probe sent at {r.FirstRefused:F0} ms)")));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<HttpStatusCode> ProbeAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agencies/me/keys");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Per partner, the acknowledged alerts its subscription's categories match (every one is TLP green or amber without an audience).</summary>
    private List<HashSet<Guid>> ExpectedPerPartner() =>
        PartnerCategories.Select(categories => _acknowledged
            .Where(a => categories.Length == 0 || categories.Contains(CategoryOf(a.Key)))
            .Select(a => a.Value).ToHashSet()).ToList();

    private string CategoryOf(string key) =>
        AlertBodies.IsSmuggling(int.Parse(key["replicas-".Length..], CultureInfo.InvariantCulture) % _bodies.Length) ? "migrant_smuggling" : "cyber_incident";

    /// <summary>One alert per key in the database, and every acknowledged alert among them.</summary>
    private async Task CheckStoredAsync(ReplicaResult result)
    {
        var ids = _acknowledged.Values.Distinct().ToArray();
        result.KeysAcknowledged = _acknowledged.Count;
        result.AlertsStored = await postgres.ScalarAsync<long>(DatabaseName, "SELECT count(*) FROM alerts");
        result.IdempotencyKeysStored = await postgres.ScalarAsync<long>(DatabaseName, "SELECT count(*) FROM idempotency_keys");
        await using var connection = new NpgsqlConnection(postgres.ConnectionString(DatabaseName));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM alerts WHERE id = ANY(@ids)", connection);
        command.Parameters.AddWithValue("ids", ids);
        var found = (long)(await command.ExecuteScalarAsync())!;
        if (ids.Length != AlertCount || result.AlertsStored != AlertCount || result.IdempotencyKeysStored != AlertCount || found != AlertCount)
        {
            _violations.Add($"Stored exactly once: {AlertCount} keys, {ids.Length} distinct alerts acknowledged, {found} of them stored, " +
                $"{result.AlertsStored} alerts and {result.IdempotencyKeysStored} idempotency keys in the database.");
        }
    }

    /// <summary>
    /// Every expected alert at every partner; nothing a partner's filter excludes; one webhook-id per (alert, partner);
    /// duplicates only of deliveries the kill orphaned (in flight on the killed replica, re-sent after their lease);
    /// and the ledger ends with every alert delivery delivered.
    /// </summary>
    private async Task CheckDeliveriesAsync(ReplicaResult result, List<PartnerReceiver> receivers, List<HashSet<Guid>> expected, List<(Guid Id, DateTime LeaseUntil)> inFlightAtKill)
    {
        var orphaned = await OrphanedAsync(inFlightAtKill, result);
        var acknowledged = _acknowledged.Values.ToHashSet();
        for (var p = 0; p < receivers.Count; p++)
        {
            var copies = receivers[p].Copies.Where(c => acknowledged.Contains(c.AlertId)).ToList();
            var received = copies.Select(c => c.AlertId).ToHashSet();
            var missing = expected[p].Count(id => !received.Contains(id));
            var unexpected = received.Count(id => !expected[p].Contains(id));
            var twoIds = copies.GroupBy(c => c.AlertId).Count(g => g.Count() > 1);
            var duplicates = copies.Sum(c => c.Copies - 1);
            var unexplained = copies.Where(c => c.Copies > 1 && !orphaned.Contains(c.WebhookId)).ToList();
            result.Partners.Add(new ReplicaPartnerResult(p, PartnerCategories[p].Length == 0 ? "all" : string.Join(", ", PartnerCategories[p]),
                expected[p].Count, received.Count, missing, duplicates, unexplained.Count));
            if (missing > 0 || unexpected > 0 || twoIds > 0 || unexplained.Count > 0)
            {
                _violations.Add($"Partner {p}: {missing} of {expected[p].Count} alerts missing, {unexpected} it does not subscribe to, " +
                    $"{twoIds} received under two webhook-ids, {unexplained.Count} duplicates not explained by the kill ({string.Join(", ", unexplained.Take(5).Select(u => u.WebhookId))}).");
            }
        }

        var states = await postgres.RowsAsync(DatabaseName,
            "SELECT d.state, count(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.type = 'alert.published' GROUP BY d.state ORDER BY d.state");
        result.DeliveryStates = states.ToDictionary(r => r[0], r => long.Parse(r[1], CultureInfo.InvariantCulture));
        if (result.DeliveryStates.Keys.Any(s => s != "delivered"))
        {
            _violations.Add("Deliveries not delivered at the end: " + string.Join(", ", result.DeliveryStates.Select(s => $"{s.Key} {s.Value}")));
        }

        if (result.LongestOverdueInFlightSeconds > StuckAfterLease.TotalSeconds)
        {
            _violations.Add($"A delivery stayed in flight {result.LongestOverdueInFlightSeconds:F1} s past its lease (bound {StuckAfterLease.TotalSeconds} s).");
        }
    }

    /// <summary>
    /// Of the deliveries in flight at the kill, those delivered only after their lease ended were the killed replica's
    /// (a live replica records its outcome within the lease): the only ones a partner may have received twice.
    /// </summary>
    private async Task<HashSet<string>> OrphanedAsync(List<(Guid Id, DateTime LeaseUntil)> inFlightAtKill, ReplicaResult result)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString(DatabaseName));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, delivered_at FROM deliveries WHERE id = ANY(@ids)", connection);
        command.Parameters.AddWithValue("ids", inFlightAtKill.Select(d => d.Id).ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        var leases = inFlightAtKill.ToDictionary(d => d.Id, d => d.LeaseUntil);
        var orphaned = new HashSet<string>();
        var lateness = new List<double>();
        while (await reader.ReadAsync())
        {
            var id = reader.GetGuid(0);
            if (!reader.IsDBNull(1) && reader.GetDateTime(1) is var delivered && delivered >= leases[id])
            {
                orphaned.Add($"msg_{id:N}");
                lateness.Add((delivered - leases[id]).TotalSeconds);
            }
        }

        result.InFlightAtKill = inFlightAtKill.Count;
        result.OrphanedByKill = orphaned.Count;
        result.OrphansResentAfterLeaseSecondsMax = lateness.Count == 0 ? 0 : lateness.Max();
        return orphaned;
    }

    private static void Log(string line) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");
}
