import './base.css';
import './execution.css';
import './comments.css';
import './activity.css';
import './follow.css';
import './history.css';
