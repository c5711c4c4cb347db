import Foundation

/// The repository's `sql/` migrations and `forms/` definitions, copied into the build as
/// resources, so that an installed `kaoping` run from any directory has them. The
/// `--sql-dir` and `--forms-dir` settings still point elsewhere when an office keeps its own.
public enum BundledFiles {
    public static var sqlDirectory: String { path("sql") }
    public static var formsDirectory: String { path("forms") }

    private static func path(_ name: String) -> String {
        Bundle.module.resourceURL?.appendingPathComponent(name).path ?? name
    }
}
