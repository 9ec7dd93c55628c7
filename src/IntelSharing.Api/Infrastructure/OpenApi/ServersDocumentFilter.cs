using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// The document's <c>servers</c>: the deployment's public base URL (<c>OpenApi__ServerUrl</c>, e.g.
/// https://intelsharing.mup.gov.rs) so Swagger UI and generated clients call the right host. Without the setting (and
/// so in the committed document) the URL is a template whose scheme and host Swagger UI lets the reader fill in,
/// defaulting to where <c>dotnet run</c> listens; a generated client is given its base address (docs/integrators.md).
/// </summary>
public sealed class ServersDocumentFilter(IConfiguration configuration) : IDocumentFilter
{
    public const string Setting = "OpenApi:ServerUrl";

    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        var configured = configuration[Setting];
        swaggerDoc.Servers =
        [
            string.IsNullOrWhiteSpace(configured)
                ? new OpenApiServer
                {
                    Url = "{scheme}://{host}",
                    Description = "Your IntelSharing deployment. Each deployment serves this document at /swagger/v1/swagger.json with its own URL here (OpenApi__ServerUrl).",
                    Variables = new Dictionary<string, OpenApiServerVariable>(StringComparer.Ordinal)
                    {
                        ["scheme"] = new() { Default = "http", Enum = ["https", "http"], Description = "https for a deployment; http for `dotnet run` on your machine." },
                        ["host"] = new() { Default = "localhost:5080", Description = "The deployment's host name (and port), e.g. intelsharing.mup.gov.rs; localhost:5080 under `dotnet run`." },
                    },
                }
                : new OpenApiServer { Url = configured.TrimEnd('/'), Description = "This deployment." },
        ];
    }
}
