import './base.css';
import './execution.css';
