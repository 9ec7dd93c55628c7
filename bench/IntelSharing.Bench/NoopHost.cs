namespace IntelSharing.Bench;

/// <summary>
/// L_http: the same Kestrel host as the API (WebApplication.CreateBuilder, no Server header, the API's 1 MB body
/// limit, warnings-only logging) answering every POST by reading the body and returning 204. Run as its own process,
/// like the API, and driven by the same generator with the same connections and payload. <c>GET /bytes/{length}</c>
/// answers a fixed TAXII body of that many bytes: the least a TAXII response of that size costs this machine (the TAXII
/// phase's no-work ceiling).
/// </summary>
public static class NoopHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        var app = builder.Build();
        app.MapGet("/health/ready", () => Results.Ok());
        var bodies = new System.Collections.Concurrent.ConcurrentDictionary<int, byte[]>();
        app.MapGet("/bytes/{length:int:range(16,16777216)}", async (int length, HttpContext context) =>
        {
            var body = bodies.GetOrAdd(length, n =>
            {
                var bytes = new byte[n];
                Array.Fill(bytes, (byte)'x');
                "{\"objects\":\""u8.CopyTo(bytes);
                "\"}"u8.CopyTo(bytes.AsSpan(n - 2));
                return bytes;
            });
            context.Response.ContentType = "application/taxii+json;version=2.1";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        });
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            return Results.NoContent();
        });
        await app.RunAsync();
        return 0;
    }
}
