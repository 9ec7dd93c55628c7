using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace IntelSharing.Bench;

/// <summary>
/// L_drain: what this process can do of a delivery's unavoidable work — sign the body (Standard Webhooks, HMAC-SHA256
/// over <c>id.timestamp.body</c> as WebhookSigner does), POST it to the partner's loopback receiver, read the answer,
/// and record the outcome durably — with the outcomes of a batch recorded by one multi-row UPDATE (one commit) on the
/// minimal table <c>limit_deliveries</c>. The dispatcher's shape: batches of 64, 32 requests in flight (8 per partner).
/// No claim, no lease, no attempt row, no audit record, no retry schedule: those are the product's, not the machine's.
/// </summary>
public sealed class DrainLimit : IDisposable
{
    public const int BatchSize = 64;
    public const int BatchesInFlight = 4;
    public const int SendsPerBatch = 8;

    private readonly HttpMessageInvoker _http;
    private readonly List<Uri> _partners;
    private readonly byte[][] _keys;
    private readonly byte[] _body;

    public DrainLimit(IReadOnlyList<string> partnerUrls, byte[] body)
    {
        _partners = partnerUrls.Select(u => new Uri(u)).ToList();
        _keys = _partners.Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray();
        _body = body;
        // As the product's partner pool: keep-alive connections, no redirects, cookies or decompression.
        _http = new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseProxy = false,
        });
    }

    /// <summary>Inserts <paramref name="count"/> pending deliveries whose ids are their numbers (1, 2, …), spread over the partners.</summary>
    public static async Task FillAsync(string connectionString, long count)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO limit_deliveries (id, alert_id, subscription_id, state, next_attempt_at)
            SELECT CAST(lpad(to_hex(n), 32, '0') AS uuid), gen_random_uuid(), gen_random_uuid(), 'pending', now()
            FROM generate_series(CAST(1 AS bigint), @count) AS n
            ON CONFLICT (id) DO UPDATE SET state = 'pending'
            """, connection) { CommandTimeout = 600 };
        command.Parameters.AddWithValue("count", count);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>JIT, connections to every partner, TLS-free handshakes: a few batches of deliveries that are not in the table.</summary>
    public async Task WarmUpAsync() =>
        await Parallel.ForEachAsync(Enumerable.Range(1, BatchSize * 2), new ParallelOptions { MaxDegreeOfParallelism = BatchesInFlight * SendsPerBatch },
            async (n, _) => await SendAsync(Id(-n), n));

    /// <summary>Sends deliveries 1…count and records each batch's outcomes; returns the seconds from the first send to the last commit.</summary>
    public async Task<(double Seconds, long Batches, long Failed)> RunAsync(string connectionString, long count)
    {
        long nextBatch = -1;
        long batches = 0;
        long failed = 0;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var loops = Enumerable.Range(0, BatchesInFlight).Select(async _ =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var update = new NpgsqlCommand(
                """
                UPDATE limit_deliveries AS d SET state = o.state, next_attempt_at = NULL
                FROM unnest(@ids, @states) AS o (id, state)
                WHERE d.id = o.id
                """, connection);
            var ids = new NpgsqlParameter<Guid[]>("ids", []);
            var states = new NpgsqlParameter<string[]>("states", []);
            update.Parameters.Add(ids);
            update.Parameters.Add(states);
            await update.PrepareAsync();
            while (true)
            {
                var first = (Interlocked.Increment(ref nextBatch) * BatchSize) + 1;
                if (first > count)
                {
                    return;
                }

                var numbers = Enumerable.Range(0, (int)Math.Min(BatchSize, count - first + 1)).Select(i => first + i).ToArray();
                var outcomes = new string[numbers.Length];
                await Parallel.ForEachAsync(Enumerable.Range(0, numbers.Length), new ParallelOptions { MaxDegreeOfParallelism = SendsPerBatch },
                    async (i, _) => outcomes[i] = await SendAsync(Id(numbers[i]), numbers[i]) ? "delivered" : "failed");
                ids.TypedValue = numbers.Select(Id).ToArray();
                states.TypedValue = outcomes;
                await update.ExecuteNonQueryAsync();
                Interlocked.Increment(ref batches);
                Interlocked.Add(ref failed, outcomes.Count(o => o == "failed"));
            }
        }).ToList();
        await Task.WhenAll(loops);
        return (System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, batches, failed);
    }

    private static Guid Id(long number) => Guid.ParseExact((number < 0 ? "f" + (-number).ToString("x31", CultureInfo.InvariantCulture) : number.ToString("x32", CultureInfo.InvariantCulture)), "N");

    private async Task<bool> SendAsync(Guid id, long number)
    {
        var partner = (int)(Math.Abs(number) % _partners.Count);
        var messageId = "msg_" + id.ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefix = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.");
        var content = new byte[prefix.Length + _body.Length];
        prefix.CopyTo(content, 0);
        _body.CopyTo(content.AsSpan(prefix.Length));
        using var request = new HttpRequestMessage(HttpMethod.Post, _partners[partner]) { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", "v1," + Convert.ToBase64String(HMACSHA256.HashData(_keys[partner], content)));
        try
        {
            using var response = await _http.SendAsync(request, CancellationToken.None);
            await response.Content.ReadAsByteArrayAsync();
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public void Dispose() => _http.Dispose();
}
