using Microsoft.OpenApi;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>Swashbuckle configuration: document info, the bearer scheme, XML comments.</summary>
public static class OpenApiSetup
{
    public const string DocumentName = "v1";

    public static IServiceCollection AddIntelSharingOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "IntelSharing API",
                Version = "1.0",
                Description = "Cross-agency sharing of alerts about migrant-smuggling networks and cyber incidents: " +
                    "submit, read and list alerts under TLP 2.0 and handling codes; agencies and their API keys.",
                License = new OpenApiLicense { Name = "Apache-2.0", Url = new Uri("https://www.apache.org/licenses/LICENSE-2.0") },
            });
            options.AddSecurityDefinition("bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "isk_<prefix>_<secret>",
                Description = "An API key issued by an operator: 'Authorization: Bearer isk_…'.",
            });
            options.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference("bearer", document)] = [],
            });
            var xml = Path.Combine(AppContext.BaseDirectory, "IntelSharing.Api.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
        });
        return services;
    }
}
