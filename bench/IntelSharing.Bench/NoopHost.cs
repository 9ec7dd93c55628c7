namespace IntelSharing.Bench;

/// <summary>
/// L_http: the same Kestrel host as the API (WebApplication.CreateBuilder, no Server header, the API's 1 MB body
/// limit, warnings-only logging) answering every POST by reading the body and returning 204. Run as its own process,
/// like the API, and driven by the same generator with the same connections and payload.
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
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            return Results.NoContent();
        });
        await app.RunAsync();
        return 0;
    }
}
