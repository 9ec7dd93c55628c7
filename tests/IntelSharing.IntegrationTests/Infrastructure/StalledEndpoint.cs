using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// A hostile partner endpoint that stalls below HTTP, on a real loopback socket: it never completes the TCP
/// handshake, or accepts and never answers, or answers the status line and headers and then never sends the
/// body it announced. Each holds the dispatcher's attempt open for as long as the dispatcher lets it.
/// </summary>
public sealed class StalledEndpoint : IAsyncDisposable
{
    public enum Stall
    {
        /// <summary>The listen queue is full and nobody accepts: the client's connect hangs.</summary>
        BeforeAccept,

        /// <summary>Accepts the connection, reads nothing, answers nothing.</summary>
        AfterAccept,

        /// <summary>Reads the request, sends <c>200 OK</c> headers announcing a body, never sends the body.</summary>
        AfterHeaders,
    }

    private readonly Socket _listener;
    private readonly List<Socket> _queueFillers = [];
    private readonly ConcurrentBag<Socket> _accepted = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _requests;

    private StalledEndpoint(Socket listener, Stall stall)
    {
        _listener = listener;
        Url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}/webhooks/intelsharing";
        if (stall != Stall.BeforeAccept)
        {
            _ = Task.Run(() => AcceptAsync(stall));
        }
    }

    public string Url { get; }

    /// <summary>Connections accepted (and still held) or requests read: shows the attack was live.</summary>
    public int Engaged => Volatile.Read(ref _requests);

    public static StalledEndpoint Start(Stall stall)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        // Backlog 0: Linux queues one connection; the fillers below take it, so later SYNs go unanswered.
        listener.Listen(stall == Stall.BeforeAccept ? 0 : 64);
        var endpoint = new StalledEndpoint(listener, stall);
        if (stall == Stall.BeforeAccept)
        {
            for (var i = 0; i < 2; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                endpoint._queueFillers.Add(filler);
                _ = filler.ConnectAsync(listener.LocalEndPoint!).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        return endpoint;
    }

    private async Task AcceptAsync(Stall stall)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _accepted.Add(connection);
            if (stall == Stall.AfterAccept)
            {
                Interlocked.Increment(ref _requests);
                continue;
            }

            _ = Task.Run(() => AnswerHeadersOnlyAsync(connection));
        }
    }

    private async Task AnswerHeadersOnlyAsync(Socket connection)
    {
        try
        {
            var received = new StringBuilder();
            var buffer = new byte[8192];
            int headerEnd;
            while ((headerEnd = received.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
            {
                var n = await connection.ReceiveAsync(buffer, _stopping.Token);
                if (n == 0)
                {
                    return;
                }

                received.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }

            var lengthLine = received.ToString(0, headerEnd).Split("\r\n")
                .FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var bodyLength = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            var bodyRead = received.Length - headerEnd - 4;
            while (bodyRead < bodyLength)
            {
                var n = await connection.ReceiveAsync(buffer, _stopping.Token);
                if (n == 0)
                {
                    return;
                }

                bodyRead += n;
            }

            Interlocked.Increment(ref _requests);
            await connection.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nok"), _stopping.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped, or the client gave up.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        foreach (var socket in _accepted.Concat(_queueFillers))
        {
            socket.Dispose();
        }

        _stopping.Dispose();
    }
}
