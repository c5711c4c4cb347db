public enum KaopingForms {}
