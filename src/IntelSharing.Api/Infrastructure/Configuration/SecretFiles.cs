namespace IntelSharing.Api.Infrastructure.Configuration;

/// <summary>
/// Settings read from files, one per setting, as Kubernetes mounts a Secret as a volume: the file
/// <c>Database__ConnectionString</c> holds the connection string. A secret in a file stays out of the process
/// environment, which <c>/proc/&lt;pid&gt;/environ</c>, crash dumps and <c>kubectl describe</c> show. The folder is
/// named by <see cref="DirectoryVariable"/>; files there win over environment variables and appsettings.json.
/// </summary>
public static class SecretFiles
{
    public const string DirectoryVariable = "INTELSHARING_SECRETS_DIR";

    /// <summary>Adds the folder's files as settings; returns the mistake when the folder is named but missing.</summary>
    public static string? Add(ConfigurationManager configuration)
    {
        if (configuration[DirectoryVariable] is not { Length: > 0 } directory)
        {
            return null;
        }

        // Not optional: a folder that was configured but is missing is a mounting mistake, and starting without the
        // secrets would fail later with a message about the secret rather than the mount.
        var fullPath = Path.GetFullPath(directory);
        if (!Directory.Exists(fullPath))
        {
            return $"{DirectoryVariable} names '{fullPath}', which does not exist: mount the secrets there or unset it.";
        }

        // Kubernetes' own entries (..data, ..2026_12_06…) start with dots, and the file provider skips dot-files.
        configuration.AddKeyPerFile(fullPath, optional: false);
        return null;
    }
}
