public enum KaopingAggregation {}
