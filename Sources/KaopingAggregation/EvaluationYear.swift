/// The years Kaoping takes for a round, a performance year or an assessment's span: wide enough
/// for any real record, narrow enough to catch a typed 226 or 20266.
public enum EvaluationYear {
    public static let plausible = 2000...2100
}
